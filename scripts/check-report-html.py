#!/usr/bin/env python3
"""Open tinybench's self-contained report.html in headless Chromium and check it rendered.

Usage:

  scripts/check-report-html.py REPORT.html --screenshot OUT.png \\
      [--case NAME]... [--plot ID]... [--timeout SECONDS]

Chromium is driven over the DevTools protocol on --remote-debugging-pipe
(no port, no websocket library: the script needs the Python 3.11 standard
library only). Run scripts/ensure-chromium.sh first to install Debian's
chromium package.

Checks (every failure is printed on one line; all are collected):
  - no console errors: console.error / console.assert, uncaught exceptions,
    and browser log entries of level error;
  - self-contained: the page requests nothing but its own file:// URL and
    data: (or blob:) URLs;
  - each --plot ID: figure.plot[data-plot="ID"] is visible and holds an <svg>
    of at least 100x100 px with at least 20 elements inside;
  - each --case NAME: table#summary has a visible tr[data-case="NAME"] whose
    text contains NAME;
  - not blank: a full-page PNG screenshot (written to OUT.png) has at least
    2% of its pixels off the background colour and at least 50 colours.

Exit status: 0 all checks passed, 1 a check failed, 2 usage error or
Chromium could not be started / driven.
"""

from __future__ import annotations

import argparse
import base64
import collections
import fcntl
import json
import os
import pathlib
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

VIEWPORT_WIDTH = 1280
VIEWPORT_HEIGHT = 800
LOAD_TIMEOUT_S = 30.0
MIN_SVG_SIZE_PX = 100
MIN_SVG_ELEMENTS = 20
MIN_NON_BACKGROUND_FRACTION = 0.02
MIN_DISTINCT_COLOURS = 50
ENSURE_HINT = "run scripts/ensure-chromium.sh to install it"

# Flags needed on the project machines: no GPU, no sandbox (we run as root),
# and a closed network (anything that phones home would only stall or log).
# --disable-dev-shm-usage: a small /dev/shm (containers) crashes Chromium on
# large screenshots; Debian's launcher adds it only when its own check works.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
]


class BrowserError(Exception):
    """Chromium could not be started or stopped answering (exit 2)."""


class CheckTimeout(Exception):
    """The page or the whole run took too long (a check failure, exit 1)."""

    def __init__(self, message: str, overall: bool = False):
        super().__init__(message)
        self.overall = overall


class CDPError(Exception):
    """A DevTools command returned an error object."""


class CDPPipe:
    """A minimal synchronous DevTools protocol client over Chromium's pipe.

    Chromium reads commands from its fd 3 and writes replies and events to its
    fd 4, each message a JSON object terminated by a NUL byte. Everything here
    is single-threaded: call() reads until its reply arrives and keeps every
    event it sees on the way in self.events, so no event is lost between
    commands. Every read is bounded by the run's overall deadline.
    """

    def __init__(self, proc: subprocess.Popen, to_browser: int, from_browser: int, deadline: float):
        self.proc = proc
        self.to_browser = to_browser
        self.from_browser = from_browser
        self.deadline = deadline
        self.events: list[dict] = []
        self._buf = bytearray()
        self._next_id = 1
        self._replies: dict[int, dict] = {}

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        msg_id = self._next_id
        self._next_id += 1
        msg: dict = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            written = os.write(self.to_browser, data)
            data = data[written:]
        return msg_id

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        msg_id = self.send(method, params, session)
        until = time.monotonic() + timeout
        while msg_id not in self._replies:
            self._read_one(until, f"reply to {method}")
        reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message', reply['error'])}")
        return reply.get("result", {})

    def wait_event(self, method: str, session: str | None, timeout: float, start: int = 0) -> dict:
        """Return the params of the first `method` event at index >= start."""
        until = time.monotonic() + timeout
        index = start
        while True:
            while index < len(self.events):
                ev = self.events[index]
                index += 1
                if ev["method"] == method and ev.get("sessionId") == session:
                    return ev.get("params", {})
            self._read_one(until, method)

    def pump(self, seconds: float) -> None:
        """Read events for a while (to catch late errors and requests)."""
        until = time.monotonic() + seconds
        try:
            while True:
                self._read_one(until, "events")
        except CheckTimeout:
            pass

    def _read_one(self, until: float, waiting_for: str) -> None:
        """Read one message into self._replies or self.events."""
        while b"\0" not in self._buf:
            now = time.monotonic()
            limit = min(until, self.deadline)
            if now >= limit:
                overall = self.deadline <= until
                which = "overall timeout" if overall else "timeout"
                raise CheckTimeout(f"{which} waiting for {waiting_for}", overall)
            ready, _, _ = select.select([self.from_browser], [], [], limit - now)
            if not ready:
                continue
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                try:  # EOF comes just before the exit: give it a moment to be reaped
                    code = self.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    code = "none yet"
                raise BrowserError(f"chromium closed the DevTools pipe (exit code {code})")
            self._buf += chunk
        end = self._buf.index(b"\0")
        msg = json.loads(self._buf[:end])
        del self._buf[: end + 1]
        if "id" in msg:
            self._replies[msg["id"]] = msg
        else:
            self.events.append(msg)


def find_chromium(explicit: str | None) -> str:
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise BrowserError(f"chromium not found at {explicit}")
        return explicit
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    found = shutil.which("chromium")
    if not found:
        raise BrowserError("chromium not found (neither /usr/bin/chromium nor on PATH)")
    return found


def start_chromium(binary: str, profile_dir: str, log_path: str) -> tuple[subprocess.Popen, int, int]:
    """Start Chromium with its DevTools pipe on fds 3 (commands) and 4 (replies).

    Returns (process, fd we write commands to, fd we read replies from).
    """
    cmd_read, cmd_write = os.pipe()  # we write commands, Chromium reads fd 3
    rep_read, rep_write = os.pipe()  # Chromium writes fd 4, we read replies

    def child_fds() -> None:
        # Runs in the child between fork and exec. Move the two ends above
        # fd 10 first, so dup2 onto 3 cannot clobber the other end if
        # os.pipe() happened to return 3 or 4 for it. dup2 clears
        # close-on-exec, so 3 and 4 survive exec; every other fd Python made
        # is close-on-exec already.
        high_in = fcntl.fcntl(cmd_read, fcntl.F_DUPFD_CLOEXEC, 10)
        high_out = fcntl.fcntl(rep_write, fcntl.F_DUPFD_CLOEXEC, 10)
        os.dup2(high_in, 3)
        os.dup2(high_out, 4)

    log = open(log_path, "wb")
    try:
        proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            # close_fds=False: with it True, Popen would close our fds 3 and 4
            # after preexec_fn ran; close-on-exec keeps the rest out instead.
            close_fds=False,
            preexec_fn=child_fds,
            # Own process group, so the finally block can kill Chromium and
            # all its helper processes by this one id.
            start_new_session=True,
        )
    except OSError as err:
        for fd in (cmd_read, cmd_write, rep_read, rep_write):
            os.close(fd)
        raise BrowserError(f"cannot start {binary}: {err}") from err
    finally:
        log.close()
    # Close Chromium's ends here so a dead browser gives EOF, not a hang.
    os.close(cmd_read)
    os.close(rep_write)
    return proc, cmd_write, rep_read


def stop_chromium(proc: subprocess.Popen) -> None:
    """Kill Chromium's process group (the browser and its helpers) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def remote_text(obj: dict) -> str:
    """Render a Runtime.RemoteObject (a console argument) as text."""
    if "value" in obj:
        return obj["value"] if isinstance(obj["value"], str) else json.dumps(obj["value"])
    return obj.get("description") or obj.get("unserializableValue") or obj.get("type", "?")


def evaluate(cdp: CDPPipe, session: str, expression: str, await_promise: bool = False):
    """Evaluate one JS expression in the page and return its JSON value."""
    result = cdp.call("Runtime.evaluate", {
        "expression": expression,
        "returnByValue": True,
        "awaitPromise": await_promise,
    }, session)
    if "exceptionDetails" in result:
        details = result["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text")
        raise CDPError(f"evaluating check script: {text}")
    return result["result"].get("value")


# ---- checks: each returns a list of one-line failure messages ----------------

def check_console(events: list[dict], session: str) -> list[str]:
    failures = []
    for ev in events:
        if ev.get("sessionId") != session:
            continue
        method, params = ev["method"], ev.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(remote_text(a) for a in params.get("args", []))
            failures.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            where = f" ({details['url']}:{details.get('lineNumber', 0) + 1})" if details.get("url") else ""
            failures.append(f"uncaught exception: {text.splitlines()[0] if text else '?'}{where}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            where = f" ({entry['url']})" if entry.get("url") else ""
            failures.append(f"browser log error [{entry.get('source', '?')}]: {entry.get('text', '')}{where}")
    return failures


def check_self_contained(events: list[dict], session: str, report_url: str) -> list[str]:
    failures = []
    seen = set()
    for ev in events:
        if ev["method"] != "Network.requestWillBeSent" or ev.get("sessionId") != session:
            continue
        url = ev["params"]["request"]["url"]
        base = url.split("#", 1)[0]
        # data: and blob: URLs are bytes the page already holds, not fetches.
        if base == report_url or url.startswith(("data:", "blob:")) or url in seen:
            continue
        seen.add(url)
        failures.append(f"fetches {url}: report.html must be self-contained")
    return failures


# One expression for all plots: figure.plot[data-plot=ID] > svg, its size,
# its element count, and whether the figure is visible.
PLOTS_JS = """
((ids) => ids.map((id) => {
  const fig = document.querySelector(`figure.plot[data-plot="${CSS.escape(id)}"]`);
  if (!fig) return {id, found: false};
  const svg = fig.querySelector("svg");
  const r = svg ? svg.getBoundingClientRect() : null;
  return {
    id, found: true, svg: !!svg,
    width: r ? r.width : 0, height: r ? r.height : 0,
    elements: svg ? svg.querySelectorAll("*").length : 0,
    visible: fig.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}),
  };
}))(%s)
"""


def check_plots(cdp: CDPPipe, session: str, plot_ids: list[str]) -> list[str]:
    failures = []
    for p in evaluate(cdp, session, PLOTS_JS % json.dumps(plot_ids)):
        name = f'plot "{p["id"]}"'
        if not p["found"]:
            failures.append(f'{name}: no figure.plot[data-plot="{p["id"]}"] element')
            continue
        if not p["visible"]:
            failures.append(f"{name}: figure is not visible")
        if not p["svg"]:
            failures.append(f"{name}: figure has no <svg>")
            continue
        if p["width"] < MIN_SVG_SIZE_PX or p["height"] < MIN_SVG_SIZE_PX:
            failures.append(f"{name}: svg is {p['width']:.0f}x{p['height']:.0f} px, "
                            f"need at least {MIN_SVG_SIZE_PX}x{MIN_SVG_SIZE_PX}")
        if p["elements"] < MIN_SVG_ELEMENTS:
            failures.append(f"{name}: svg has {p['elements']} elements, need at least "
                            f"{MIN_SVG_ELEMENTS} (an empty frame, not a chart)")
    return failures


CASES_JS = """
((names) => {
  const table = document.querySelector("table#summary");
  if (!table) return null;
  return names.map((name) => {
    const row = table.querySelector(`tr[data-case="${CSS.escape(name)}"]`);
    if (!row) return {name, found: false};
    return {
      name, found: true,
      visible: row.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}),
      text: row.innerText,
    };
  });
})(%s)
"""


def check_cases(cdp: CDPPipe, session: str, case_names: list[str]) -> list[str]:
    rows = evaluate(cdp, session, CASES_JS % json.dumps(case_names))
    if rows is None:
        return ["no table#summary element"]
    failures = []
    for r in rows:
        name = f'case "{r["name"]}"'
        if not r["found"]:
            failures.append(f'{name}: no tr[data-case="{r["name"]}"] row in table#summary')
            continue
        if not r["visible"]:
            failures.append(f"{name}: row in table#summary is not visible")
        if r["name"] not in r["text"]:
            failures.append(f"{name}: row text does not contain the case name (text: {r['text'][:80]!r})")
    return failures


def take_screenshot(cdp: CDPPipe, session: str, out_path: str) -> bytes:
    """Capture the whole page (not just the viewport) as PNG and write it."""
    metrics = cdp.call("Page.getLayoutMetrics", {}, session)
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    clip = {"x": 0, "y": 0, "width": max(1, size["width"]), "height": max(1, size["height"]), "scale": 1}
    shot = cdp.call("Page.captureScreenshot", {
        "format": "png",
        "captureBeyondViewport": True,
        "clip": clip,
    }, session, timeout=60)
    png = base64.b64decode(shot["data"])
    with open(out_path, "wb") as f:
        f.write(png)
    return png


def _add_bytes(a: int, b: int, high: int, low: int) -> int:
    """Bytewise (a + b) mod 256 of two little-endian byte strings held in ints.

    SWAR: add the low 7 bits of every byte (no carry can cross a byte), then
    xor in the top bits. `high` is 0x80 in every byte, `low` 0x7f.
    """
    return ((a & low) + (b & low)) ^ ((a ^ b) & high)


def decode_png(png: bytes) -> tuple[int, int, int, bytes]:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes).

    Hand-written with zlib and the five PNG row filters because CI scripts
    may use the Python standard library only (no Pillow). Returns
    (width, height, bytes_per_pixel, pixel_bytes). None/Sub/Up rows are
    unfiltered with whole-row integer arithmetic (fast); Average and Paeth
    need a per-byte loop.
    """
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(png):
        length, ctype = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None:
        raise ValueError("PNG has no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"unsupported PNG (bit depth {depth}, colour type {colour}, "
                         f"interlace {interlace}); need 8-bit RGB/RGBA, non-interlaced")
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    if len(raw) != height * (stride + 1):
        raise ValueError(f"PNG data is {len(raw)} bytes, expected {height * (stride + 1)}")

    high = int.from_bytes(b"\x80" * stride, "little")
    low = int.from_bytes(b"\x7f" * stride, "little")
    mask = (1 << (8 * stride)) - 1
    out = bytearray(height * stride)
    prior = bytes(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if ftype == 0:  # None
            row = line
        elif ftype == 1:  # Sub: running sum per channel, as a log-step scan
            acc = int.from_bytes(line, "little")
            shift = bpp
            while shift < stride:
                acc = _add_bytes(acc, (acc << (8 * shift)) & mask, high, low)
                shift *= 2
            row = acc.to_bytes(stride, "little")
        elif ftype == 2:  # Up
            row = _add_bytes(int.from_bytes(line, "little"), int.from_bytes(prior, "little"),
                             high, low).to_bytes(stride, "little")
        elif ftype == 3:  # Average
            cur = bytearray(line)
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                cur[i] = (cur[i] + ((left + prior[i]) >> 1)) & 0xFF
            row = bytes(cur)
        elif ftype == 4:  # Paeth
            cur = bytearray(line)
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b = prior[i]
                c = prior[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pred) & 0xFF
            row = bytes(cur)
        else:
            raise ValueError(f"bad PNG filter type {ftype} in row {y}")
        out[y * stride:(y + 1) * stride] = row
        prior = row
    return width, height, bpp, bytes(out)


def check_not_blank(png: bytes) -> tuple[list[str], tuple[int, int]]:
    try:
        width, height, bpp, pixels = decode_png(png)
    except (ValueError, zlib.error, struct.error) as err:
        return [f"screenshot: cannot decode PNG: {err}"], (0, 0)
    if bpp == 4:
        colours = collections.Counter(memoryview(pixels).cast("I"))
    else:
        colours = collections.Counter(zip(pixels[0::3], pixels[1::3], pixels[2::3]))
    total = width * height
    background = colours.most_common(1)[0][1] if total else 0
    off = (total - background) / total if total else 0.0
    failures = []
    if off < MIN_NON_BACKGROUND_FRACTION:
        failures.append(f"page looks blank: {off:.2%} of pixels differ from the background colour, "
                        f"need at least {MIN_NON_BACKGROUND_FRACTION:.0%}")
    if len(colours) < MIN_DISTINCT_COLOURS:
        failures.append(f"page looks blank: {len(colours)} distinct colours, need at least {MIN_DISTINCT_COLOURS}")
    return failures, (width, height)


# ---- driver -----------------------------------------------------------------

def open_page(cdp: CDPPipe, report_url: str) -> str:
    """Open a tab, enable the domains we listen to, load the report.

    Returns the session id. Raises CheckTimeout if the load event never fires.
    """
    target = cdp.call("Target.createTarget", {"url": "about:blank"}, timeout=20)["targetId"]
    session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        cdp.call(f"{domain}.enable", {}, session)
    # Refuse every network fetch at once: the network is closed here anyway,
    # and a blocked request still shows up in Network.requestWillBeSent (so
    # the self-contained check sees it) without stalling the load event.
    cdp.call("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]}, session)
    cdp.call("Emulation.setDeviceMetricsOverride", {
        "width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT, "deviceScaleFactor": 1, "mobile": False,
    }, session)
    # Without this the vertical scrollbar takes 15 px of the 1280 and the
    # full-page screenshot comes out 1265 wide.
    cdp.call("Emulation.setScrollbarsHidden", {"hidden": True}, session)
    start = len(cdp.events)
    nav = cdp.call("Page.navigate", {"url": report_url}, session)
    if nav.get("errorText"):
        raise CDPError(f"navigating to {report_url}: {nav['errorText']}")
    try:
        cdp.wait_event("Page.loadEventFired", session, LOAD_TIMEOUT_S, start)
    except CheckTimeout as err:
        if err.overall:
            raise
        raise CheckTimeout(f"report did not finish loading within {LOAD_TIMEOUT_S:.0f} s") from None
    # Let scripts that draw after load (fonts, animation frames) finish.
    evaluate(cdp, session, "document.fonts.ready.then(() => new Promise((r) => "
             "requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))", await_promise=True)
    return session


def run_checks(cdp: CDPPipe, args: argparse.Namespace, report_url: str) -> tuple[list[str], str]:
    failures: list[str] = []
    session = open_page(cdp, report_url)
    if args.plot:
        failures += check_plots(cdp, session, args.plot)
    if args.case:
        failures += check_cases(cdp, session, args.case)
    counts = evaluate(cdp, session, "({plots: document.querySelectorAll('figure.plot').length, "
                      "rows: document.querySelectorAll('table#summary tr[data-case]').length})")
    png = take_screenshot(cdp, session, args.screenshot)
    blank, (width, height) = check_not_blank(png)
    failures += blank
    cdp.pump(0.2)  # pick up errors or requests still in flight
    failures += check_console(cdp.events, session)
    failures += check_self_contained(cdp.events, session, report_url)
    summary = (f"{os.path.basename(args.report)} rendered: {counts['plots']} plots, "
               f"{counts['rows']} case rows, screenshot {args.screenshot} ({width}x{height})")
    return failures, summary


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Open a self-contained report.html in headless Chromium and check it rendered "
                    "(install Chromium with scripts/ensure-chromium.sh).")
    parser.add_argument("report", help="the report.html to check")
    parser.add_argument("--screenshot", required=True, metavar="OUT.png", help="where to write the full-page PNG")
    parser.add_argument("--case", action="append", default=[], metavar="NAME",
                        help="a case that must have a visible row in table#summary (repeatable)")
    parser.add_argument("--plot", action="append", default=[], metavar="ID",
                        help="a figure.plot[data-plot=ID] that must hold a drawn SVG chart (repeatable)")
    parser.add_argument("--timeout", type=float, default=90.0, metavar="SECONDS",
                        help="overall time limit (default 90)")
    parser.add_argument("--chromium", metavar="PATH", help="Chromium binary (default /usr/bin/chromium or PATH)")
    return parser.parse_args(argv)  # exits 2 on usage errors


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    report = pathlib.Path(args.report)
    if not report.is_file():
        print(f"error: {args.report}: no such file", file=sys.stderr)
        return 2
    report_url = report.resolve().as_uri()
    deadline = started + args.timeout

    # Last-resort guard: if anything blocks outside the deadline-bounded
    # reads, SIGALRM raises and the finally block still kills Chromium.
    def on_alarm(signum, frame):
        raise CheckTimeout("overall timeout (SIGALRM)", overall=True)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.timeout) + 10)

    tmp = tempfile.mkdtemp(prefix="check-report-html-")
    log_path = os.path.join(tmp, "chromium.log")
    proc = None
    try:
        binary = find_chromium(args.chromium)
        proc, to_browser, from_browser = start_chromium(binary, os.path.join(tmp, "profile"), log_path)
        cdp = CDPPipe(proc, to_browser, from_browser, deadline)
        try:
            version = cdp.call("Browser.getVersion", timeout=20)
        except (CheckTimeout, BrowserError) as err:
            raise BrowserError(f"chromium did not answer on the DevTools pipe ({err})") from None
        failures, summary = run_checks(cdp, args, report_url)
    except BrowserError as err:
        tail = _log_tail(log_path)
        print(f"error: {err}; {ENSURE_HINT}{tail}", file=sys.stderr)
        return 2
    except CDPError as err:
        print(f"error: DevTools command failed: {err}", file=sys.stderr)
        return 2
    except CheckTimeout as err:
        if err.overall:
            print(f"FAIL: gave up after --timeout {args.timeout:g} s ({err})")
        else:
            print(f"FAIL: {err}")
        return 1
    finally:
        signal.alarm(0)
        if proc is not None:
            stop_chromium(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    elapsed = time.monotonic() - started
    if failures:
        for line in failures:
            print(f"FAIL: {line}")
        print(f"{len(failures)} check(s) failed for {args.report} ({version.get('product', 'chromium')}, {elapsed:.1f} s)")
        return 1
    print(f"{summary} [{version.get('product', 'chromium')}, {elapsed:.1f} s]")
    return 0


def _log_tail(path: str, lines: int = 5) -> str:
    """Last lines of Chromium's output, to explain why it failed to start."""
    try:
        with open(path, errors="replace") as f:
            tail = f.read().strip().splitlines()[-lines:]
    except OSError:
        return ""
    return ("\nchromium output:\n  " + "\n  ".join(tail)) if tail else ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
