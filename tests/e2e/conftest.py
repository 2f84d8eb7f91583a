"""Browser tests: the built Nuxt app in headless Chromium against the real stack.

One stack per session (tests/stack.py): the simulator, daphne (API + /ws/ + the built app),
a celery worker, beat and the exchange streams, all on the pytest test database. The browser is
Debian's /usr/bin/chromium driven by the `playwright` package (never `playwright install`)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.stack import BASE_DIR, Stack

CHROMIUM = os.environ.get("SETKA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-dev-shm-usage"]
FRONTEND = BASE_DIR / "frontend"
DIST = FRONTEND / ".output" / "public"
ARTIFACTS = BASE_DIR / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CONTROL_TOKEN = "e2e-control-token"
STACK_APPNAME = "setka-e2e-stack"  # libpq application_name of the stack's sessions


VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1366, "height": 900},
}


def _need_browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/bootstrap does it)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -r requirements/dev.txt")


def _build_frontend():
    """The browser tests drive the built app; build it when it is missing (scripts/test builds it first)."""
    if (DIST / "index.html").exists() and os.environ.get("SETKA_E2E_REBUILD") != "1":
        return
    if not shutil.which("npm") or not (FRONTEND / "node_modules").exists():
        pytest.skip("frontend not built and npm packages not installed: run scripts/bootstrap")
    subprocess.run(["npm", "run", "build"], cwd=FRONTEND, check=True, capture_output=True, timeout=600)


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an event loop in the test thread while a browser is open;
    Django's guard would refuse the test's own synchronous, one-at-a-time ORM calls. Allowed
    only for the browser modules of this process (never for the stack, never for other tests)."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def e2e_stack(request, django_db_setup, django_db_blocker):
    """The real processes, one set per test module. When the module ends they stop and the rows
    they committed are flushed (not per test: a TRUNCATE under running processes deadlocks)."""
    _need_browser()
    _build_frontend()
    _reference_rows_committed(django_db_blocker)
    from django.conf import settings

    db = settings.DATABASES["default"]
    db_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
        "SETKA_SIMULATOR_CONTROL_TOKEN": CONTROL_TOKEN,
        "SETKA_FRONTEND_DIST": str(DIST),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        # libpq tags the stack's sessions so that teardown ends those and nobody else's
        "PGAPPNAME": STACK_APPNAME,
    }
    log_dir = ARTIFACTS / "e2e-logs" / request.module.__name__.rsplit(".", 1)[-1]  # one per module (and worker)
    shutil.rmtree(log_dir, ignore_errors=True)
    stack = Stack(env=env, log_dir=log_dir)
    stack.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    try:
        sim = stack.start("simulator", state="", replay="")
        stack.env["SETKA_SIMULATOR_URL"] = sim.url
        okx = stack.start("sim-okx", "simulator", state="", replay="", venue="okx")  # paper accounts on OKX
        stack.env["SETKA_SIMULATOR_OKX_URL"] = okx.url
        from exchanges.simulator.control import SimulatorControl

        control = SimulatorControl(sim.url, CONTROL_TOKEN)
        stack.okx_control = SimulatorControl(okx.url, CONTROL_TOKEN)
        # Grids are built around the simulator's own recent price (so the charts' history fits),
        # rounded to a whole 100 so that the test's levels are exact.
        from decimal import ROUND_HALF_UP, Decimal

        base = (control.price("BTCUSDT") / 100).quantize(Decimal(1), ROUND_HALF_UP) * 100
        control.set_price("BTCUSDT", str(base))
        stack.okx_control.set_price("BTCUSDT", str(base))
        stack.base_price = base
        stack.start("web", timeout=90)
        stack.start("worker", concurrency=2, timeout=90)
        stack.start("beat", timeout=90)
        stack.start("streams", timeout=90)
        stack.control = control
        yield stack
    except Exception:
        print(stack.all_logs())
        raise
    finally:
        stack.stop_all()
        _close_db_sessions(db["NAME"], django_db_blocker)
        _flush(django_db_blocker)
        _close_db_sessions(db["NAME"], django_db_blocker)


def _flush(django_db_blocker) -> None:
    """Leave the test database as later tests expect it: empty but for the reference rows."""
    from django.core.management import call_command

    from tests.conftest import _seed_reference_rows

    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        _seed_reference_rows()


def _reference_rows_committed(django_db_blocker) -> None:
    """The processes read committed rows: the exchanges and plans that data migrations create
    must be there when a stack starts, even after another module's transactional test (or
    stack) flushed them in this worker."""
    from tests.conftest import _seed_reference_rows

    with django_db_blocker.unblock():
        _seed_reference_rows()


def _close_db_sessions(name: str, django_db_blocker) -> None:
    """Killed processes can leave a server session behind for a moment; end them (only the
    stack's: this teardown may run while other tests' connections are open, because
    pytest-django reorders tests across modules) so that the test database can be dropped."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cur:
        for _ in range(20):
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
                        [name, STACK_APPNAME])
            if not cur.fetchone()[0]:
                break
            time.sleep(0.25)
    connection.close()


@pytest.fixture(scope="module")
def base_url(e2e_stack) -> str:
    return e2e_stack.procs["web"].url


@pytest.fixture(scope="module")
def base_price(e2e_stack):
    """BTCUSDT's price at the start of each journey (a whole 100)."""
    return e2e_stack.base_price


@pytest.fixture(scope="module")
def sim_control(e2e_stack):
    return e2e_stack.control


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module: Playwright's event loop must be gone before later (async) tests."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def page(browser, base_url, viewport):
    context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=base_url, accept_downloads=True,
                                  locale="ru-RU", is_mobile=viewport == "phone", has_touch=viewport == "phone")
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.on("console", lambda msg: msg.type in ("error", "warning") and print(f"[console.{msg.type}] {msg.text[:2000]}"))
    yield pg
    if pg.errors:
        print("page errors:", *pg.errors, sep="\n  ")
    context.close()


@pytest.fixture
def shot(viewport):
    """shot(page, "name") saves test-artifacts/screenshots/<viewport>-<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(pg, name: str) -> Path:
        # Mobile-first: nothing may push the page wider than the screen.
        widths = pg.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] + 1, f"{name}: page is {widths[0]}px wide on a {widths[1]}px screen"
        path = SCREENSHOTS / f"{viewport}-{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take


# --- helpers the tests share ------------------------------------------------------------------

AXE = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(pg, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (the npm package, injected into the page) and keep the serious/critical findings."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed in frontend/node_modules")
    # Measure settled colours at rest: not mid-transition, and not under the pointer left
    # where the previous click was (hover states are lighter by design).
    pg.mouse.move(1, pg.viewport_size["height"] - 1) if pg.viewport_size else None
    pg.add_style_tag(content="*, *::before, *::after { transition: none !important; animation: none !important; }")
    pg.wait_for_timeout(100)
    pg.add_script_tag(path=str(AXE))
    # The toast viewport's focus guards (reka-ui) are aria-hidden spans that must stay focusable
    # to trap focus around toasts; they exist only while a toast shows, so they are left out.
    result = pg.evaluate("""async () => await axe.run(
        {exclude: [['[role="region"][aria-label^="Notifications"]'], ['[role="region"][aria-label^="Уведомления"]']]},
        {resultTypes: ['violations']})""")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [(n["target"], n.get("failureSummary", "")[-160:]) for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in impacts
    ]


def _db(django_db_blocker, fn):
    """Run ORM code off the event loop that Playwright's sync API keeps in this thread."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    test_db_name = connections["default"].settings_dict["NAME"]

    def work():
        connection.settings_dict["NAME"] = test_db_name
        try:
            return fn()
        finally:
            connection.close()

    # A generous bound (a loaded CI machine imports candles slowly); on timeout the test fails
    # at once with the thread left behind, instead of waiting for it until pytest-timeout.
    pool = ThreadPoolExecutor(1)
    try:
        with django_db_blocker.unblock():
            return pool.submit(work).result(timeout=90)
    finally:
        pool.shutdown(wait=False)


def make_user(django_db_blocker) -> tuple[str, str]:
    """A verified user with trading access (email, password), made directly in the test DB."""
    def make():
        from tests.factories import DEFAULT_PASSWORD, UserFactory

        return UserFactory(email=new_email()).email, DEFAULT_PASSWORD

    return _db(django_db_blocker, make)


def login(page, email: str, password: str, next_path: str = "/dashboard") -> None:
    page.goto(f"/login?next={next_path}")
    page.locator('[data-testid="email"] input, input[data-testid="email"]').first.fill(email)
    page.locator('[data-testid="password"] input, input[data-testid="password"]').first.fill(password)
    page.get_by_test_id("submit").click()
    page.wait_for_url(f"**{next_path}")


def new_email() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}@example.com"


def outbox_code(django_db_blocker, email: str, *, timeout: float = 15) -> str:
    """The latest 6-digit code e-mailed to `email` (read from accounts.OutboxMessage in the test DB)."""
    from accounts.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = _db(django_db_blocker,
                  lambda: OutboxMessage.objects.filter(recipient__iexact=email).order_by("-created_at", "-id").first())
        if msg is not None:
            m = re.search(r"\b(\d{6})\b", f"{msg.subject}\n{msg.body}")
            if m:
                return m.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no code e-mailed to {email}")


def issue_access_code(django_db_blocker) -> str:
    from accounts import services
    from accounts.models import User

    def issue():
        operator = User.objects.filter(is_staff=True).first()
        if operator is None:
            operator = User.objects.create_user(email=new_email(), password=uuid.uuid4().hex, is_staff=True)
        return services.access_grant_issue(operator=operator, note="e2e").code

    return _db(django_db_blocker, issue)


def js_transfer(pg) -> tuple[float, list[tuple[str, float]]]:
    """Sum of the gzip sizes (KB) of the JavaScript files the page loaded from the app, and each file's."""
    urls = pg.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name).filter(u => u.split('?')[0].endsWith('.js'))")
    files = []
    for url in sorted(set(urls)):
        rel = url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]
        f = DIST / rel
        if f.is_file():
            files.append((rel, len(gzip.compress(f.read_bytes(), compresslevel=9)) / 1024))
    files.sort(key=lambda x: -x[1])
    return sum(kb for _, kb in files), files


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, keep a screenshot of where the browser was."""
    outcome = yield
    report = outcome.get_result()
    pg = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and pg is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(SCREENSHOTS / f"FAILED-{item.name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - the page may be gone
            pass
