"""apaf.stand_ins: a stand-in with forwarders keeps its module unloaded for `from x import f`,
and everything else about the module still works: its submodules, its other names."""
import json
import subprocess
import sys

PROBE = r"""
import json, sys
from apaf.stand_ins import stand_in, withdraw
stand_in(("html",), forward=("escape",))
from html import escape                      # what aiohttp.web_protocol does
unloaded = "html.entities" not in sys.modules
escaped = escape("<a href='x'>")             # the first call loads the real module
import html.parser                           # a submodule of a stood-in package
parser = html.parser.HTMLParser.__module__
withdraw()
import html
print(json.dumps([unloaded, escaped, parser, html.unescape("&lt;&eacute;"), type(html).__name__]))
"""


def test_forwarders_keep_the_module_unloaded_and_it_still_works():
    got = json.loads(subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True,
                                    text=True).stdout)
    assert got == [True, "&lt;a href=&#x27;x&#x27;&gt;", "html.parser", "<é", "module"]
