"""The documentation builds cleanly, its internal links resolve, and its examples run.

- The Sphinx build runs with warnings as errors (``-W --keep-going``), offline, in a
  temporary folder (``docs/_build`` is never touched).
- Every internal ``href`` and ``src`` in the built HTML must point at a file that exists in
  the build, and every ``#fragment`` at an element with that ``id`` in the target page.
- Code in the Markdown pages is executed: fences tagged ``pycon`` run as doctests (so the
  output shown on the page is checked), fences tagged ``python`` run with :func:`exec`.
  Blocks of one page share a namespace and run in page order.  To show code that must not
  run, tag the fence ``text`` or use a ``{code-block}`` directive.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytestmark = pytest.mark.docs


# --------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def html_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         str(DOCS), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, (
        f"sphinx-build failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    )
    return out


def test_docs_build(html_dir: Path) -> None:
    for page in ("index", "getting-started", "notation", "data", "api", "references",
                 "changelog"):
        assert (html_dir / f"{page}.html").is_file(), f"{page}.html was not built"


def test_api_reference_documents_the_modules(html_dir: Path) -> None:
    ids = _Page.parse(html_dir / "api.html").ids
    for target in ("module-simcore.tables", "simcore.tables.leontief_inverse",
                   "simcore.tables.GDP_EXCLUDED_VA_ITEMS", "module-simcore.datasets",
                   "simcore.datasets.load", "module-simcore.errors",
                   "simcore.errors.SimcoreError"):
        assert target in ids, f"api.html has no element with id {target!r}"


# --------------------------------------------------------------------------------------
# Internal links
# --------------------------------------------------------------------------------------
class _Page(HTMLParser):
    """Collects element ids and the local links (``href``/``src``) of one HTML page."""

    _LINK_ATTRS = {"a": "href", "link": "href", "script": "src", "img": "src",
                   "iframe": "src", "source": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        if d.get("id"):
            self.ids.add(d["id"])
        if tag == "a" and d.get("name"):
            self.ids.add(d["name"])
        attr = self._LINK_ATTRS.get(tag)
        if attr and d.get(attr) is not None:
            self.links.append((self.getpos()[0], d[attr]))

    @classmethod
    def parse(cls, path: Path) -> _Page:
        page = cls()
        page.feed(path.read_text(encoding="utf-8"))
        page.close()
        return page


def _is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme) or url.startswith("//")


def test_internal_links_resolve(html_dir: Path) -> None:
    pages = {p.resolve(): _Page.parse(p) for p in sorted(html_dir.rglob("*.html"))}
    root = html_dir.resolve()
    broken: list[str] = []
    checked = 0
    for path, page in pages.items():
        rel = path.relative_to(root)
        for line, url in page.links:
            if _is_external(url):
                continue
            parts = urlsplit(url)
            target_path = unquote(parts.path)
            if target_path:
                target = (path.parent / target_path).resolve()
                if target.is_dir():
                    target = target / "index.html"
            else:
                target = path
            checked += 1
            where = f"{rel}:{line}: {url!r}"
            if root != target and root not in target.parents:
                broken.append(f"{where} points outside the build")
                continue
            if not target.is_file():
                broken.append(f"{where} -> missing file {target.relative_to(root)}")
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _Page.parse(target).ids
                if frag not in ids:
                    broken.append(f"{where} -> no id {frag!r} in {target.relative_to(root)}")
    assert checked > 50, f"only {checked} internal links found; is the build empty?"
    assert not broken, "broken internal links:\n" + "\n".join(broken)


# --------------------------------------------------------------------------------------
# Executable examples
# --------------------------------------------------------------------------------------
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n"
    r"(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.DOTALL | re.MULTILINE,
)


def _code_blocks(md: Path) -> list[tuple[str, int, str]]:
    """(language, line number, code) of each ``python``/``pycon`` fence in a page."""
    text = md.read_text(encoding="utf-8")
    blocks = []
    for m in _FENCE.finditer(text):
        lang = m["info"].strip().split(maxsplit=1)[0] if m["info"].strip() else ""
        if lang in ("python", "pycon"):
            line = text.count("\n", 0, m.start()) + 2
            body = "\n".join(ln[len(m["indent"]):] for ln in m["body"].splitlines())
            blocks.append((lang, line, body + "\n"))
    return blocks


_PAGES_WITH_CODE = sorted(p for p in DOCS.rglob("*.md")
                          if "_build" not in p.parts and _code_blocks(p))


def test_getting_started_has_examples() -> None:
    assert DOCS / "getting-started.md" in _PAGES_WITH_CODE
    assert len(_code_blocks(DOCS / "getting-started.md")) >= 5


@pytest.mark.parametrize("page", _PAGES_WITH_CODE, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_examples_run(page: Path) -> None:
    globs: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=flags)
    rel = page.relative_to(ROOT).as_posix()
    for lang, line, code in _code_blocks(page):
        name = f"{rel}:{line}"
        if lang == "python":
            exec(compile(code, name, "exec"), globs)  # noqa: S102
            continue
        test = parser.get_doctest(code, globs, name, str(page), line - 1)
        assert test.examples, f"{name}: a pycon block with no '>>>' prompt"
        out: list[str] = []
        result = runner.run(test, out=out.append, clear_globs=False)
        assert result.failed == 0, f"{name}: example failed\n" + "".join(out)
        globs = test.globs


def test_generated_figures_are_the_code_s(html_dir: Path) -> None:
    """The model figures of the reproduction page come from the code at build time: the
    fitted scale, the onset of the car-line loss and the headline losses in the built page
    equal a fresh run (and the figures of the methodology page were rendered)."""
    import html as _html

    from simcore import calibrate, scenario

    text = _html.unescape(re.sub(r"<[^>]+>", " ", (html_dir / "reproduction.html").read_text()))
    text = re.sub(r"\s+", " ", text)
    fit = calibrate.calibrate(scenario.load("kiuchi-2025-3m"))
    assert f"dependency_scale = {fit.value:.6f}" in text
    cut = scenario.run("rare-earth-data-driven-12m", **{
        "shocks.0.duration": 36500.0, "shocks.1.duration": 36500.0, "horizon.days": 120})
    assert f"first falls on day {int(cut.onset_day.sel(sector='3511'))}" in text
    dd = scenario.run("rare-earth-data-driven-12m")
    assert f"{float(dd.gdp_loss_total) / 1e3:,.1f}" in text
    for png in ("kiuchi-3m.png", "data-driven-12m.png", "vary-curves.png", "vary-tornado.png"):
        assert any(p.name == png for p in html_dir.rglob("*.png")), png


def _page_text(html_dir: Path, page: str) -> str:
    import html as _html

    text = _html.unescape(re.sub(r"<[^>]+>", " ", (html_dir / f"{page}.html").read_text()))
    return re.sub(r"\s+", " ", text)


def test_methodology_examples_are_the_code_s(html_dir: Path) -> None:
    """The two worked examples of the methodology page (a 30-day total cut of product 20 on
    japan-2015-37), generated at build time, equal a fresh run here: with fast
    overproduction the gross loss and the gains (also quoted on the robustness page); with
    60-day stocks the first day of loss and the ten-year loss."""
    import simcore as sc
    from simcore.dynamic.params import DynamicParams

    t = sc.datasets.load("japan-2015-37")
    cut = sc.ImportCut(product="20", origin="ROW", share=1.0, duration=30)
    over = sc.simulate(t, cut, params=DynamicParams(alpha_max=1.25, alpha_tau=1.0), days=400,
                       record=())
    gross = f"{float(over.gdp_loss_gross_total):,.0f}"
    gains = f"{float(over.gdp_gain_total) / 1e3:,.1f}"
    assert float(over.gdp_gain_total) > float(over.gdp_loss_gross_total)  # "a net gain"
    meth, rob = _page_text(html_dir, "methodology"), _page_text(html_dir, "robustness")
    assert f"gross loss of about {gross} million yen and gains of {gains} bn yen, a net gain" \
        in meth
    assert f"gross loss {gross} million yen, gains {gains} bn yen" in rob
    late = sc.simulate(t, cut, params=DynamicParams(inventory_days=60.0), days=3650, record=())
    g = late.gdp_loss.values
    first = int(np.flatnonzero(g > 1e-6 * g.max())[0])
    assert first > 30 and (g[:first] <= 1e-6 * g.max()).all()
    assert (f"no loss until day {first}, then costs {float(late.gdp_loss_total) / 1e3:,.0f} "
            "bn yen over ten years") in meth


def test_sweep_timings_on_the_page_are_the_record_s(html_dir: Path) -> None:
    """docs/sweeps.md's throughput table is rendered at build time from the committed record
    benchmarks/results/sweeps-latest.json, with its machine, load, date and command (never
    rerun): every figure on the built page is the record's, the lane kernel's bound too."""
    import json

    r = json.loads((ROOT / "benchmarks" / "results" / "sweeps-latest.json").read_text())
    text = _page_text(html_dir, "sweeps")
    assert f"Machine: {r['machine']} (load average " in text
    assert f"Date: {r['date_utc']}" in text and r["command"] in text
    for want in (f"one core {r['kernel_1']:.0f} scenario-years/s",
                 "of two cores of the bound",
                 f"{r['local_1_cpu_ms']:.1f} / {r['local_2_cpu_ms']:.1f} ms (efficiency "
                 f"{r['local_cpu_efficiency']:.2f})",
                 f"365 days {r['local_1']:.0f} scenario-years/s",
                 f"2 threads {r['local_2']:.0f} scenario-years/s (efficiency "
                 f"{r['local_efficiency']:.2f})",
                 f"chunks {r['dask_1']:.0f} / {r['dask_2']:.0f} scenario-years/s",
                 f"{100 * r['dask_overhead_1']:.1f} % / {100 * r['dask_overhead_2']:.1f} %",
                 f"{r['nomura_scenarios']:,}-scenario Latin hypercube of kiuchi-2025-3m "
                 f"({r['nomura_mean_days']:.0f}-day horizons) {r['nomura_s']:.0f} s",
                 f"took about {1e3 / r['local_1']:.0f} ms on one core"):
        assert want in text, want


def test_mrio_page_figures_are_the_code_s(html_dir: Path) -> None:
    """The MRIO page's losses by region and Japan's split equal a fresh run of the shipped
    MRIO scenario."""
    import html as _html

    from simcore import scenario

    text = _html.unescape(re.sub(r"<[^>]+>", " ", (html_dir / "mrio.html").read_text()))
    text = re.sub(r"\s+", " ", text)
    r = scenario.run("china-rare-earth-stop-mrio-3m")
    jp = float(r.gdp_loss_by_region.sel(region="JPN")) / 1e3
    assert f"Japan loses {jp:,.1f} bn yen" in text
    assert f"{float(r.region_loss_direct) / 1e3:,.1f} bn yen directly" in text
    assert f"{float(r.region_loss_third_country) / 1e3:,.1f} bn yen" in text
    assert f"It runs {r.attrs['days']} days" in text


# --------------------------------------------------------------------------------------
# Equations render offline (issue 19)
# --------------------------------------------------------------------------------------
def _browser():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import browser
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    return browser


def _need(what: str, how: str) -> None:
    """Skip for want of ``what``, unless ``SIMCORE_REQUIRE_BROWSER`` is set (CI sets it after
    installing Chromium and MathJax): then it is a failure."""
    msg = f"{what} is not installed ({how}); see docs/_ext/browser.py"
    if os.environ.get("SIMCORE_REQUIRE_BROWSER"):
        pytest.fail(msg)
    pytest.skip(msg)


def test_raw_tex_is_detected() -> None:
    """The checker itself fails a page whose equations were not typeset."""
    b = _browser()
    src = '<p><span class="math notranslate nohighlight">\\(x=Lf\\)</span></p>'
    assert b.problems(src, src)  # MathJax never ran
    ok = ('<p><span class="math notranslate nohighlight"><mjx-container jax="SVG">'
          "<svg></svg></mjx-container></span></p>")
    assert b.problems(ok, src) == []
    err = ok.replace("<svg>", '<svg data-mjx-error="Undefined control sequence \\foo">')
    assert b.problems(err, src)


def test_mathjax_is_served_with_the_pages(html_dir: Path) -> None:
    """With a local MathJax the pages load it from the build, never from a network."""
    if not (html_dir / "_static" / "mathjax" / "tex-svg-full.js").is_file():
        _need("a local MathJax", "npm install --prefix docs/_vendor mathjax@3")
    for page in ("index", "methodology", "notation", "reproduction"):
        scripts = re.findall(r'<script[^>]*src="([^"]*)"', (html_dir / f"{page}.html").read_text())
        assert any("_static/mathjax/tex-svg-full.js" in s for s in scripts), page
        assert not [s for s in scripts if _is_external(s)], (page, scripts)


def test_equations_render_offline_in_chromium(html_dir: Path) -> None:
    """Every page with an equation, loaded in headless Chromium with every network request
    refused: each equation is typeset by MathJax, no raw TeX is left and MathJax reports no
    TeX error."""
    b = _browser()
    if b.chromium() is None:
        _need("Chromium", "apt-get install chromium")
    if not (html_dir / "_static" / "mathjax" / "tex-svg-full.js").is_file():
        _need("a local MathJax", "npm install --prefix docs/_vendor mathjax@3")
    results = b.check(html_dir)
    assert {"index", "methodology", "notation", "reproduction"} <= set(results)
    bad = {page: pr for page, pr in results.items() if pr}
    assert not bad, bad


def test_committed_screenshots_show_the_pages_as_built(html_dir: Path) -> None:
    """The screenshots committed in docs/images/screenshots/ still show the pages: the text
    recorded when they were taken (visible.json) is still what the top of each built page
    shows, body and sidebar.  When a page's top changes, rerun
    ``python docs/_ext/browser.py HTML_DIR --screenshots docs/images/screenshots``."""
    b = _browser()
    shots = DOCS / "images" / "screenshots"
    for name, _ in b.SCREENSHOTS:
        assert (shots / f"{name}.png").is_file(), name
    if b.chromium() is None:
        _need("Chromium", "apt-get install chromium")
    if not (html_dir / "_static" / "mathjax" / "tex-svg-full.js").is_file():
        _need("a local MathJax", "npm install --prefix docs/_vendor mathjax@3")
    stale = b.stale_screenshots(html_dir, shots)
    assert not stale, (
        "the committed screenshots no longer show the pages; rerun python "
        f"docs/_ext/browser.py HTML_DIR --screenshots docs/images/screenshots: {stale}")


def test_stale_screenshot_is_detected(html_dir: Path, tmp_path: Path) -> None:
    """The screenshot check itself fails when the recorded text is not the page's."""
    import json

    b = _browser()
    if b.chromium() is None:
        _need("Chromium", "apt-get install chromium")
    rec = json.loads((DOCS / "images" / "screenshots" / "visible.json").read_text())
    rec["index"]["body"].insert(3, "a paragraph the page no longer has")
    (tmp_path / "visible.json").write_text(json.dumps(rec))
    assert set(b.stale_screenshots(html_dir, tmp_path)) == {"index"}
