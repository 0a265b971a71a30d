"""Check the built docs in headless Chromium: every equation typeset, offline.

Run after a build (``python -m sphinx -b html docs docs/_build/html``)::

    python docs/_ext/browser.py docs/_build/html            # check every page
    python docs/_ext/browser.py docs/_build/html --screenshots docs/images/screenshots

Chromium (Debian's ``chromium``; or the path in ``SIMCORE_CHROMIUM``) loads each page from
the file system with every network request refused, lets MathJax run, and the rendered
DOM is read back: a page fails when an equation is left as raw TeX (``\\(``, ``\\[``,
``$$``, an unrendered ``math`` element) or MathJax reports a TeX error.  With
``--screenshots DIR`` the index, reproduction and methodology pages are also saved as
PNG, and ``DIR/visible.json`` records the text each screenshot shows (the text nodes in
view, in document order, for the page body and the sidebar, equations left out).
``tests/test_docs.py`` runs the same check, and checks that the committed screenshots still
show the pages as built: the text recorded for each must still be what the top of the
page shows (a prefix of what a taller window shows, so a different font or line wrapping
on another machine does not matter); otherwise rerun the ``--screenshots`` command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Pages screenshotted, with the fragment scrolled to (where the equations are).
SCREENSHOTS = (("index", ""), ("reproduction", ""), ("methodology", ""))

#: Refuse every network request: no host resolves, and any proxy is a closed port.
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]


def chromium() -> str | None:
    """The Chromium executable, or None."""
    env = os.environ.get("SIMCORE_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float = 120) -> str:
    exe = chromium()
    if exe is None:
        raise RuntimeError("no Chromium found (apt-get install chromium, or set "
                           "SIMCORE_CHROMIUM)")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--hide-scrollbars", f"--user-data-dir={profile}", *OFFLINE,
             "--virtual-time-budget=20000", *args],
            capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


#: Collects the text in view once MathJax has finished, into <pre id="simcore-visible">.
_VISIBLE_JS = """<script>
(function () {
  function collect() {
    var out = {body: [], sidebar: []}, H = window.innerHeight, n;
    var w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while ((n = w.nextNode())) {
      var t = n.nodeValue.replace(/\\s+/g, ' ').trim(), el = n.parentElement;
      if (!t || el.closest('script,style,mjx-container,.math,#simcore-visible')) continue;
      var cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || cs.display === 'none') continue;
      var r = document.createRange(); r.selectNodeContents(n);
      var b = r.getBoundingClientRect();
      if (b.width === 0 || b.height === 0 || b.top >= H) continue;
      (el.closest('.sphinxsidebar') ? out.sidebar : out.body).push(t);
    }
    var pre = document.createElement('pre'); pre.id = 'simcore-visible';
    pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
  }
  function go() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise)
      MathJax.startup.promise.then(collect); else collect();
  }
  if (document.readyState === 'complete') go(); else window.addEventListener('load', go);
})();
</script>"""


def visible_text(page: Path, size: str = "1280,1800") -> dict[str, list[str]]:
    """``{"body": [...], "sidebar": [...]}``: the text nodes a window of ``size`` shows at
    the top of the page after MathJax ran, in document order (equations left out)."""
    import html
    import json

    src = page.read_text(encoding="utf-8")
    tmp = page.with_name(f".simcore-visible-{os.getpid()}-{page.name}")
    tmp.write_text(src.replace("</body>", _VISIBLE_JS + "</body>"), encoding="utf-8")
    try:
        dom = _run([f"--window-size={size}", "--dump-dom", tmp.resolve().as_uri()])
    finally:
        tmp.unlink()
    m = re.search(r'<pre id="simcore-visible">(.*?)</pre>', dom, re.S)
    if not m:
        raise RuntimeError(f"{page.name}: the visible-text script did not run")
    return json.loads(html.unescape(m[1]))


def stale_screenshots(html_dir: Path, shots: Path) -> dict[str, str]:
    """``page -> why`` for each committed screenshot whose recorded text (``visible.json``)
    is no longer what the top of the built page shows (checked in a taller window, so only a
    change of the page's top counts, not the font or the line wrapping of this machine)."""
    import json

    rec = json.loads((Path(shots) / "visible.json").read_text(encoding="utf-8"))
    out = {}
    for name, _ in SCREENSHOTS:
        now = visible_text(Path(html_dir) / f"{name}.html", size="1280,2600")
        for part in ("body", "sidebar"):
            was = rec[name][part]
            if now[part][:len(was)] != was:
                k = next((i for i, (a, b) in enumerate(zip(was, now[part])) if a != b),
                         min(len(was), len(now[part])))
                got = now[part][k] if k < len(now[part]) else None
                out[name] = (f"{part} text {k}: screenshot shows {was[k]!r}, the page now "
                             f"{got!r}")
                break
    return out


def rendered_dom(page: Path) -> str:
    """The page's DOM after its scripts ran (MathJax among them)."""
    return _run(["--dump-dom", page.resolve().as_uri()])


def screenshot(page: Path, png: Path, fragment: str = "", size: str = "1280,1800") -> Path:
    """A PNG of the page as Chromium shows it (scrolled to ``#fragment``)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    _run([f"--screenshot={png.resolve()}", f"--window-size={size}", url])
    return png


_SKIP = re.compile(r"<(script|style|pre|code|textarea)\b.*?</\1>", re.S | re.I)
_MJX = re.compile(r"<mjx-container\b.*?</mjx-container>", re.S | re.I)
_MATH_EL = re.compile(r'<(span|div)[^>]*class="[^"]*\bmath\b[^"]*"[^>]*>(.*?)</\1>', re.S)


def problems(dom: str, source_html: str) -> list[str]:
    """What is wrong with the typesetting of one page (empty: every equation rendered).
    ``source_html`` is the built file, to count its equations."""
    out = []
    expected = len(_MATH_EL.findall(_SKIP.sub("", source_html)))
    got = len(re.findall(r"<mjx-container\b", dom))
    if got < expected:
        out.append(f"{expected} equations in the page, {got} typeset by MathJax")
    if re.search(r"data-mjx-error|<mjx-merror|class=\"merror\"", dom):
        errs = re.findall(r'data-mjx-error="([^"]*)"', dom)
        out.append(f"MathJax reported TeX errors: {sorted(set(errs))[:5]}")
    text = _MJX.sub("", _SKIP.sub("", dom))
    for m in re.finditer(r"\\\(|\\\[|\$\$|\\begin\{", text):
        out.append(f"raw TeX left: ...{re.sub(r'<[^>]+>', '', text[m.start():m.start() + 60])}")
        break
    return out


def check(html_dir: Path, pages: list[str] | None = None,
          workers: int = 2) -> dict[str, list[str]]:
    """``page -> problems`` for every built page with math (or the ``pages`` named)."""
    from concurrent.futures import ThreadPoolExecutor

    html_dir = Path(html_dir)
    files = ([html_dir / f"{p}.html" for p in pages] if pages else
             sorted(p for p in html_dir.glob("*.html")
                    if _MATH_EL.search(_SKIP.sub("", p.read_text(encoding="utf-8")))))

    def one(f: Path) -> list[str]:
        return problems(rendered_dom(f), f.read_text(encoding="utf-8"))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(zip((f.stem for f in files), pool.map(one, files)))


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="check the built docs in headless Chromium")
    ap.add_argument("html_dir", type=Path)
    ap.add_argument("--screenshots", type=Path, metavar="DIR")
    args = ap.parse_args(argv)
    bad = {p: pr for p, pr in check(args.html_dir).items() if pr}
    for page, pr in bad.items():
        print(f"{page}: " + "; ".join(pr))
    if args.screenshots:
        import json

        seen = {}
        for name, frag in SCREENSHOTS:
            print(screenshot(args.html_dir / f"{name}.html", args.screenshots / f"{name}.png",
                             frag))
            seen[name] = visible_text(args.html_dir / f"{name}.html")
        (args.screenshots / "visible.json").write_text(
            json.dumps(seen, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(args.screenshots / "visible.json")
    print("every equation rendered offline" if not bad else f"{len(bad)} pages failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
