#!/usr/bin/env python3
"""Side-by-side markdown tables from the JSON lines bench/run.sh writes.

usage: summarize.py results/STAMP.jsonl [more.jsonl ...]

Every figure is the median over the runs of a cell (the "n" column says how many); ratios are
ratios of those medians. Records: kind=run (cloudtwin-loadgen), kind=startup, kind=rss,
kind=skip (a scenario the server does not implement).
"""
import json
import statistics
import sys
from collections import defaultdict

SERVERS = ["cloudtwin", "moto", "noop", "durable"]


def load(paths):
    out = []
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        print(f"(skipped a bad line in {p})", file=sys.stderr)
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=1):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if abs(x) >= 100 or digits == 0:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def ratio(a, b):
    if a is None or b in (None, 0):
        return None
    return a / b


def fmt_ratio(r):
    return "–" if r is None else (f"{r:.1f}×" if r >= 10 else f"{r:.2f}×")


def fmt_share(r):
    """A share as a percentage, to a tenth: rounded to whole ones, 39.9 % read as a pass."""
    return "–" if r is None else f"{100 * r:.1f} %"


def mib(kb):
    return None if kb is None else kb / 1024.0


def main(paths):
    recs = load(paths)
    runs = [r for r in recs if r.get("kind") == "run"]
    skips = [r for r in recs if r.get("kind") == "skip"]
    lines = []
    p = lines.append

    # ---- throughput and latency -------------------------------------------------------------
    cells = defaultdict(list)  # (label, api, scenario, conc) -> [records]
    for r in runs:
        if str(r.get("tag", "")).startswith("rep"):
            cells[(r["label"], r["api"], r["scenario"], r["concurrency"])].append(r)

    def cell(label, api, scen, conc):
        rs = cells.get((label, api, scen, conc), [])
        if not rs:
            return None
        return {
            "n": len(rs),
            "rps": med([r.get("rps") for r in rs]),
            "p50": med([r.get("p50_ms") for r in rs]),
            "p99": med([r.get("p99_ms") for r in rs]),
            "err": sum(r.get("error_count", 0) for r in rs),
            "cpu": med([r.get("server_cpu_us_per_req") for r in rs]),
            "rss": med([r.get("server_rss_kb") for r in rs]),
        }

    concs = sorted({k[3] for k in cells})
    apis = [a for a in ["starrocks", "rocketmq"] if any(k[1] == a for k in cells)]
    p("### Create and describe (median of n runs; moto = Amazon MQ CreateBroker/DescribeBroker)")
    p("")
    p("| api | op | c | cloudtwin req/s | moto req/s | noop req/s | **cloudtwin/moto** | **cloudtwin/noop** "
      "| cloudtwin p50 / p99 ms | moto p50 / p99 ms | noop p50 / p99 ms | cloudtwin µs CPU/req | errors ct/moto/noop | n |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for api in apis:
        for scen in ["create", "describe", "mixed", "list"]:
            for c in concs:
                ct = cell("cloudtwin", api, scen, c)
                mo = cell("moto", "moto", scen, c)
                no = cell("noop", api, scen, c)
                if not (ct or no):
                    continue
                g = lambda x, k: x[k] if x else None  # noqa: E731
                lat = lambda x: f"{fmt(g(x, 'p50'), 2)} / {fmt(g(x, 'p99'), 2)}" if x else "–"  # noqa: E731
                ns = "/".join(str(x["n"]) if x else "0" for x in (ct, mo, no))
                errs = "/".join(str(x["err"]) if x else "–" for x in (ct, mo, no))
                p(f"| {api} | {scen} | {c} | {fmt(g(ct, 'rps'))} | {fmt(g(mo, 'rps'))} | {fmt(g(no, 'rps'))} "
                  f"| {fmt_ratio(ratio(g(ct, 'rps'), g(mo, 'rps')))} | {fmt_ratio(ratio(g(ct, 'rps'), g(no, 'rps')))} "
                  f"| {lat(ct)} | {lat(mo)} | {lat(no)} | {fmt(g(ct, 'cpu'))} | {errs} | {ns} |")
    for s in skips:
        p(f"\n*skipped: {s.get('label')} {s.get('api')} {s.get('scenario')}: {s.get('reason')}*")
    p("")

    # ---- the durable reference ---------------------------------------------------------------
    if any(k[0] == "durable" for k in cells):
        p("### Creates against the durable reference (`noop-server --store sqlite`: one row per create, "
          "group commit, `synchronous=FULL`, nothing else)")
        p("")
        p("| api | c | durable req/s | **durable/moto** | **cloudtwin/durable** | durable p50 / p99 ms "
          "| durable µs CPU/req | cloudtwin µs CPU/req | errors | n |")
        p("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for api in apis:
            for c in concs:
                du = cell("durable", api, "create", c)
                if not du:
                    continue
                ct = cell("cloudtwin", api, "create", c)
                mo = cell("moto", "moto", "create", c)
                p(f"| {api} | {c} | {fmt(du['rps'])} | {fmt_ratio(ratio(du['rps'], mo and mo['rps']))} "
                  f"| {fmt_ratio(ratio(ct and ct['rps'], du['rps']))} | {fmt(du['p50'], 2)} / {fmt(du['p99'], 2)} "
                  f"| {fmt(du['cpu'])} | {fmt(ct and ct['cpu'])} | {du['err']} | {du['n']} |")
        p("")

    # ---- start-up ----------------------------------------------------------------------------
    ups = defaultdict(list)
    for r in recs:
        if r.get("kind") == "startup":
            ups[(r["label"], r.get("tag", ""), r.get("probe", ""))].append(r)
    if ups:
        p("### Start-up: spawn → first answer (median over starts)")
        p("")
        p("| server | stored | probe | median ms | min ms | max ms | starts |")
        p("|---|---|---|---:|---:|---:|---:|")
        for (label, tag, probe), rs in sorted(ups.items()):
            reps = [x for r in rs for x in r.get("reps_ms", [])]
            p(f"| {label} | {tag} | {probe} | {fmt(med(reps), 1)} | {fmt(min(reps), 1)} | {fmt(max(reps), 1)} | {len(reps)} |")
        p("")

    # ---- memory ------------------------------------------------------------------------------
    rss = defaultdict(list)
    for r in recs:
        if r.get("kind") == "rss":
            rss[(r["label"], r["phase"])].append(r)
    if rss:
        p("### Memory: RSS (MiB)")
        p("")
        p("| server | idle (empty) | after N creates | restarted with N stored | N |")
        p("|---|---:|---:|---:|---:|")
        for label in SERVERS:
            get = lambda ph: med([mib(r.get("rss_kb")) for r in rss.get((label, ph), [])])  # noqa: E731
            ns = {r.get("n") for ph in ("after", "restart") for r in rss.get((label, ph), [])}
            if any((label, ph) in rss for ph in ("idle", "after", "restart")):
                p(f"| {label} | {fmt(get('idle'), 1)} | {fmt(get('after'), 1)} | {fmt(get('restart'), 1)} "
                  f"| {', '.join(f'{n:,}' for n in sorted(x for x in ns if x))} |")
        for r in recs:
            if r.get("kind") == "disk":
                p(f"\n{r['label']} data directory with {r['n']:,} instances: {r['kb'] / 1024:.1f} MiB")
        p("")

    # ---- with N stored -----------------------------------------------------------------------
    big = defaultdict(list)
    for r in runs:
        if r.get("tag") in ("big", "big-seed"):
            big[(r["label"], r["api"], r["scenario"], r["concurrency"], r["tag"])].append(r)
    if big:
        p("### With N stored: list (first page of 10), describe, and the seeding creates themselves")
        p("")
        p("| server | api | op | c | stored | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | n |")
        p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (label, api, scen, c, tag), rs in sorted(big.items(), key=lambda kv: (SERVERS.index(kv[0][0]) if kv[0][0] in SERVERS else 9, kv[0][1:])):
            ns = [r.get("n") or 0 for r in rss.get((label, "after"), [])]
            stored = max(ns) if ns else max(r.get("ids", 0) or 0 for r in rs)
            op = "create (seeding)" if tag == "big-seed" else scen
            p(f"| {label} | {api} | {op} | {c} | {stored:,} | {fmt(med([r.get('rps') for r in rs]))} "
              f"| {fmt(med([r.get('p50_ms') for r in rs]), 2)} | {fmt(med([r.get('p90_ms') for r in rs]), 2)} "
              f"| {fmt(med([r.get('p99_ms') for r in rs]), 2)} | {fmt(med([r.get('max_ms') for r in rs]), 2)} "
              f"| {sum(r.get('error_count', 0) for r in rs)} | {len(rs)} |")
        p("")

    # ---- the bar -----------------------------------------------------------------------------
    if concs:
        top = 64 if 64 in concs else max(concs)
        p(f"### The bar (issue 8), at c={top}" + ("" if top == 64 else " (c=64 was not run: indicative only)"))
        p("")
        apis = [a for a in ("starrocks", "rocketmq") if cell("cloudtwin", a, "create", top)] or ["starrocks"]
        mo = cell("moto", "moto", "create", top)
        checks = []

        def check(name, values, ok, shown):
            """A row: one figure per api (or one for all, under the first); it passes when
            every known figure does."""
            known = [v for v in values if v is not None]
            verdict = "–" if not known else ("pass" if all(ok(v) for v in known) else "**FAIL**")
            shown_values = [shown(v) for v in values] + [""] * (len(apis) - len(values))
            checks.append(f"| {name} | " + " | ".join(shown_values) + f" | {verdict} |")

        def per_api(op, key):
            return [(cell("cloudtwin", a, op, top) or {}).get(key) for a in apis]

        def unit(digits, suffix):
            return lambda v: "–" if v is None else f"{fmt(v, digits)} {suffix}"

        creates = per_api("create", "rps")
        check("create throughput ≥ 50× moto", [ratio(c, mo and mo["rps"]) for c in creates],
              lambda r: r >= 50, fmt_ratio)
        of_noop = [ratio(c, (cell("noop", a, "create", top) or {}).get("rps")) for a, c in zip(apis, creates)]
        check("create throughput ≥ 40 % of noop", of_noop, lambda r: r >= 0.4, fmt_share)
        check("create p99 < 10 ms", per_api("create", "p99"), lambda v: v < 10, unit(2, "ms"))
        check("describe p99 < 5 ms", per_api("describe", "p99"), lambda v: v < 5, unit(2, "ms"))
        for tag in ("empty", "stored"):
            reps = [x for (label, t, probe), rs in ups.items() if label == "cloudtwin" and t == tag and probe == "health"
                    for r in rs for x in r.get("reps_ms", [])]
            check(f"first answer ≤ 50 ms ({tag})", [med(reps)], lambda v: v <= 50, unit(1, "ms"))
        idle = med([mib(r.get("rss_kb")) for r in rss.get(("cloudtwin", "idle"), [])])
        check("RSS idle < 20 MiB", [idle], lambda v: v < 20, unit(1, "MiB"))
        ns = [r.get("n") for r in rss.get(("cloudtwin", "after"), [])]
        stored = med([mib(r.get("rss_kb")) for r in rss.get(("cloudtwin", "after"), [])])
        check(f"RSS with N stored < 100 MiB (N={max(ns) if ns else '?'})", [stored], lambda v: v < 100,
              unit(1, "MiB"))
        names = {"starrocks": "StarRocks", "rocketmq": "RocketMQ"}
        p("| criterion | " + " | ".join(f"cloudtwin, {names[a]}" for a in apis) + " | |")
        p("|---|" + "---:|" * len(apis) + "---|")
        lines.extend(checks)
        no = cell("noop", "starrocks", "create", top)
        du = cell("durable", "starrocks", "create", top)
        if du:
            of_noop = ratio(du["rps"], no and no["rps"])
            p("")
            p(f"For scale, not a criterion: the durable reference did {fmt_ratio(ratio(du['rps'], mo and mo['rps']))} "
              f"moto's creates and {fmt_share(of_noop)} of noop's in this run (StarRocks bodies).")
        p("")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
