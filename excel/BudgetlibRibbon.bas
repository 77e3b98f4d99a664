Attribute VB_Name = "BudgetlibRibbon"
' Ribbon callbacks of the budgetlib add-in ("Ngan sach" tab).
'
' Source of truth for the VBA in budgetlib.xlam: `budgetlib addin build` writes this file into the
' add-in with pyOpenVBA (do not edit the module inside Excel; edit this file and rebuild).
' Every ribbon button (excel/customUI.xml) calls OnButton; Python decides what the button does
' (budgetlib.addin.on_button), so there is no business logic here. Keep this file ASCII: VBA source
' is stored in the project's code page, so user-facing text lives on the Python side.
Option Explicit

' Replaced by the build with the version of the budgetlib package that built the add-in, so Python
' can tell when the add-in and the installed package do not match.
Public Const ADDIN_VERSION As String = "0.0.0"

' The Python statement a button runs through xlwings' RunPython.
Public Function PythonCommand(ByVal buttonId As String) As String
    PythonCommand = "import budgetlib.addin as a; a.on_button('" & buttonId & "', addin='" & ADDIN_VERSION _
        & "', xlwings='" & XLWINGS_VERSION & "')"
End Function

' onAction of every button: the control's id selects the action.
Public Sub OnButton(control As IRibbonControl)
    ' RunPython hands the active workbook to Python as the caller (xw.Book.caller()), so there must be one.
    If ActiveWorkbook Is Nothing Then Workbooks.Add
    RunPython PythonCommand(control.Id)
End Sub
