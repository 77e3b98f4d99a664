"""budgetlib's LibreOffice extension: the protocol handler behind the "Ngân sách" menu and toolbar.

Every menu item and toolbar button has a URL ``org.budgetlib.calc:<command id>`` (``Addons.xcu``);
``ProtocolHandler.xcu`` routes that scheme to this component, one instance per window (frame).
:meth:`Handler.dispatch` hands the command to ``budgetlib_lo.commands`` (in ``pythonpath/``, which
LibreOffice puts on ``sys.path`` for this file). Macro security does not apply: this is an
installed extension, not a document macro.
"""

import unohelper
from com.sun.star.frame import XDispatch, XDispatchProvider
from com.sun.star.lang import XInitialization, XServiceInfo

IMPLEMENTATION = "org.budgetlib.calc.ProtocolHandler"
SERVICES = ("com.sun.star.frame.ProtocolHandler",)
PROTOCOL = "org.budgetlib.calc:"


class Handler(unohelper.Base, XInitialization, XDispatchProvider, XDispatch, XServiceInfo):
    def __init__(self, ctx, *args):
        self.ctx = ctx
        self.frame = None

    # XInitialization: LibreOffice passes the frame the handler serves
    def initialize(self, args):
        if args:
            self.frame = args[0]

    # XDispatchProvider
    def queryDispatch(self, url, target, flags):
        return self if url.Protocol == PROTOCOL else None

    def queryDispatches(self, requests):
        return tuple(self.queryDispatch(r.FeatureURL, r.FrameName, r.SearchFlags) for r in requests)

    # XDispatch
    def dispatch(self, url, args):
        from budgetlib_lo import commands

        commands.run(self.ctx, self.frame, url.Path)

    def addStatusListener(self, listener, url):
        pass

    def removeStatusListener(self, listener, url):
        pass

    # XServiceInfo
    def getImplementationName(self):
        return IMPLEMENTATION

    def supportsService(self, name):
        return name in SERVICES

    def getSupportedServiceNames(self):
        return SERVICES


g_ImplementationHelper = unohelper.ImplementationHelper()
g_ImplementationHelper.addImplementation(Handler, IMPLEMENTATION, SERVICES)
