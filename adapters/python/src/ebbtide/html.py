"""What a notebook shows of an EbbtideCluster: rows for Dask's cluster template (its
``cluster_status`` slot), and the widget's scaling tab. Built from the control API's status and
decision history, as last received, so the widget's periodic refresh shows them live."""

from __future__ import annotations

import datetime
from html import escape
from typing import Any, Iterable, Mapping

# Decisions listed, newest first.
DECISIONS_SHOWN = 10


def bound(v: Any) -> str:
    return "inf" if v in ("inf", None) or (isinstance(v, float) and v == float("inf")) else str(v)


def mode_text(status: Mapping[str, Any]) -> str:
    """``adaptive within [0, 4]`` or ``manual: holding 3 worker(s)``, as ``ebbtide status`` says it."""
    if status.get("mode") == "manual" and status.get("manual"):
        return f"manual: holding {status['manual']['n']} worker(s)"
    a = status.get("adaptive") or {}
    return f"adaptive within [{bound(a.get('minimum'))}, {bound(a.get('maximum'))}]"


def clock(t: Any) -> str:
    try:
        return datetime.datetime.fromtimestamp(float(t)).strftime("%H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def decision_text(entry: Mapping[str, Any]) -> str:
    """One history entry in a line: what was decided, what was done, by which rule."""
    d = entry.get("decision") or {}
    rec = d.get("recommendation") or {}
    status = rec.get("status")
    if status == "up":
        what = f"scale up to {rec.get('n')}"
    elif status == "down":
        what = f"scale down: close {', '.join(rec.get('workers') or [])}"
    else:
        what = "no change"
    outcome = d.get("outcome") or {}
    done = outcome.get("status")
    if done == "shutdown":
        what = f"shutdown ({outcome.get('reason', '')})"
    elif done and done != "none":
        what += f" ({done})"
    count = entry.get("count", 1)
    if count and count > 1:
        what += f" x{count}"
    rule = (d.get("explanation") or {}).get("rule")
    return what + (f": {rule}" if rule else "")


def cluster_rows(status: Mapping[str, Any] | None, entries: Iterable[Mapping[str, Any]], url: str | None, stopped: bool) -> str:
    """Table rows placed in Dask's cluster template: ebbtide's mode, its three worker counts, the
    target, its own page, and the last decisions."""
    if status is None:
        return '<tr><td style="text-align: left;" colspan="2"><strong>ebbtide:</strong> not connected</td></tr>'
    last = list(entries)[-DECISIONS_SHOWN:][::-1]
    target = (last[0].get("decision") or {}).get("safeTarget") if last else None
    state = " (stopped)" if stopped else ""
    rows = [
        '<tr class="ebbtide-status">',
        f'<td style="text-align: left;"><strong>Scaling mode:</strong> <span class="ebbtide-mode">{escape(mode_text(status))}</span> (ebbtide{state})</td>',
        '<td style="text-align: left;"><strong>ebbtide workers:</strong> '
        f'<span class="ebbtide-connected">{len(status.get("observed") or [])}</span> connected, '
        f'<span class="ebbtide-requested">{len(status.get("requested") or [])}</span> requested, '
        f'<span class="ebbtide-target">{escape(str(target if target is not None else "-"))}</span> wanted</td>',
        "</tr>",
    ]
    if url:
        rows.append(f'<tr><td style="text-align: left;" colspan="2"><strong>ebbtide dashboard:</strong> <a href="{escape(url)}/" target="_blank">{escape(url)}/</a></td></tr>')
    items = "".join(
        f'<tr class="ebbtide-decision"><td style="text-align: left;">{escape(str(e.get("tick", "")))}</td>'
        f'<td style="text-align: left;">{escape(clock((e.get("decision") or {}).get("time")))}</td>'
        f'<td style="text-align: left;">{escape(decision_text(e))}</td></tr>'
        for e in last
    )
    rows.append(
        '<tr><td style="text-align: left;" colspan="2"><details><summary><strong>Decisions</strong> (newest first)</summary>'
        f'<table class="ebbtide-decisions"><tr><th>tick</th><th>time</th><th>decision</th></tr>{items}</table></details></td></tr>'
    )
    return "\n".join(rows)


def scaling_rows(status: Mapping[str, Any] | None, workers: int, entries: Iterable[Mapping[str, Any]]) -> str:
    """The widget's *Scaling* tab (Dask's ``_scaling_status``), with ebbtide's mode and target."""
    last = list(entries)[-1:]
    target = (last[0].get("decision") or {}).get("safeTarget") if last else None
    requested = len(status.get("requested") or []) if status else workers
    count = str(workers) if workers == requested else f"{workers} / {requested}"
    mode = escape(mode_text(status)) if status else "unknown"
    return f"""
        <table>
            <tr><td style="text-align: left;">Scaling mode: {mode} (ebbtide)</td></tr>
            <tr><td style="text-align: left;">Workers: {count}</td></tr>
            <tr><td style="text-align: left;">Wanted: {escape(str(target if target is not None else "-"))}</td></tr>
        </table>
        """
