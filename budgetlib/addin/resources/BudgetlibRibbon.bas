Attribute VB_Name = "BudgetlibRibbon"
' Ribbon callbacks of the budgetlib add-in ("Ngan sach" tab).
'
' Source of truth for the hand-written VBA in budgetlib.xlam: `budgetlib addin build` writes this
' file into the add-in with pyOpenVBA (do not edit the module inside Excel; edit this file and
' rebuild). The ribbon XML and the BudgetlibText module (every text of the ribbon, in Vietnamese and
' English) are generated from budgetlib/addin/buttons.py and the message catalogue.
' Every button calls OnButton; Python decides what the button does (budgetlib.addin.on_button), so
' there is no business logic here. Keep this file ASCII: VBA source is stored in the project's code
' page, so user-facing text lives in the catalogue.
Option Explicit

' Replaced by the build with the version of the budgetlib package that built the add-in, so Python
' can tell when the add-in and the installed package do not match.
Public Const ADDIN_VERSION As String = "0.0.0"

' msoLanguageIDUI and the language id of Vietnamese.
Private Const UI_LANGUAGE As Long = 2
Private Const VIETNAMESE As Long = 1066

' The language of the ribbon and of every message: the "BUDGETLIB LANG" setting ("vi" or "en") of
' the add-in's budgetlib.conf sheet, then of the user's budgetlib.conf file (xlwings' own config
' sources), else Excel's user-interface language: Vietnamese for a Vietnamese Excel, English for any
' other. Without an answer (an Excel that does not say), Vietnamese.
Public Function UiLang() As String
    Dim configured As String, languageId As Long
    On Error Resume Next
    configured = LCase$(Trim$(GetConfigFromSheet(ThisWorkbook).Item("BUDGETLIB LANG")))
    If configured <> "vi" And configured <> "en" Then
        configured = ""
        Dim fromFile As String
        If GetConfigFromFile(GetConfigFilePath(), "BUDGETLIB LANG", fromFile) Then configured = LCase$(Trim$(fromFile))
    End If
    languageId = Application.LanguageSettings.LanguageID(UI_LANGUAGE)
    On Error GoTo 0
    If configured = "vi" Or configured = "en" Then
        UiLang = configured
    ElseIf languageId = 0 Or languageId = VIETNAMESE Then
        UiLang = "vi"
    Else
        UiLang = "en"
    End If
End Function

' The Python statement a button runs through xlwings' RunPython.
Public Function PythonCommand(ByVal buttonId As String) As String
    PythonCommand = "import budgetlib.addin as a; a.on_button('" & buttonId & "', addin='" & ADDIN_VERSION _
        & "', xlwings='" & XLWINGS_VERSION & "', lang='" & UiLang() & "')"
End Function

' onAction of every button: the control's id selects the action.
Public Sub OnButton(control As IRibbonControl)
    ' RunPython hands the active workbook to Python as the caller (xw.Book.caller()), so there must be one.
    If ActiveWorkbook Is Nothing Then Workbooks.Add
    RunPython PythonCommand(control.Id)
End Sub

' getLabel, getScreentip and getSupertip of every control.
Public Sub GetLabel(control As IRibbonControl, ByRef returnedVal)
    returnedVal = RibbonText(control.Id & ".label", UiLang())
End Sub

Public Sub GetScreentip(control As IRibbonControl, ByRef returnedVal)
    returnedVal = RibbonText(control.Id & ".screentip", UiLang())
End Sub

Public Sub GetSupertip(control As IRibbonControl, ByRef returnedVal)
    returnedVal = RibbonText(control.Id & ".supertip", UiLang())
End Sub
