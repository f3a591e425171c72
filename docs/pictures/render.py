"""Draw every ``*.mmd`` (mermaid) picture of this folder as the ``*.svg`` beside it.

The pages show the SVG files (the documentation site does not run mermaid); after changing a ``.mmd``
file, draw it again:

    npm pack mermaid@11 && tar xzf mermaid-11.*.tgz package/dist/mermaid.min.js
    python docs/pictures/render.py package/dist/mermaid.min.js

It runs mermaid in headless chromium (``chromium`` on the PATH). tests/test_architecture_doc.py fails
when an SVG no longer shows the labels of its ``.mmd`` file.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def render(mermaid_js: Path) -> None:
    sources = sorted(HERE.glob("*.mmd"))
    texts = [source.read_text() for source in sources]
    page = f"""<!doctype html><html><body>
<script src="{mermaid_js.resolve().as_uri()}"></script>
<script>
mermaid.initialize({{startOnLoad: false, securityLevel: "strict", theme: "neutral"}});
(async () => {{
  const out = [];
  for (const [i, text] of {json.dumps(texts)}.entries()) {{
    try {{ out.push((await mermaid.render("picture" + i, text)).svg); }} catch (e) {{ out.push("ERROR " + e); }}
  }}
  const pre = document.createElement("pre");
  pre.id = "pictures";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}})();
</script></body></html>"""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "render.html"
        path.write_text(page)
        dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=30000",
                              "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=300).stdout
    found = re.search(r'<pre id="pictures">(.*?)</pre>', dom, re.S)
    if found is None:
        sys.exit("mermaid drew nothing (is the path to mermaid.min.js right?)")
    for source, svg in zip(sources, json.loads(html.unescape(found.group(1)))):
        if svg.startswith("ERROR"):
            sys.exit(f"{source.name}: {svg}")
        svg = re.sub(r"<br\s*>", "<br/>", svg)  # an SVG file is XML: HTML's <br> must be closed
        source.with_suffix(".svg").write_text(svg + "\n")
        print(f"wrote {source.with_suffix('.svg').relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    render(Path(sys.argv[1]))
