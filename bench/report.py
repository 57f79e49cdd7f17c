#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn the raw output of scripts/bench.sh into bench/results/.

Reads, from --raw: icount.txt and wall.txt (ipc_bench inside the VM),
native.txt (ring_bench), config.txt, and writes to --out: results.md,
results.csv and the PNG plots (gnuplot). Standard library only.

Mechanisms and queues are listed in the order the benchmarks print them,
so a new row of ipc_bench's table (a new chan path) shows up here with no
change.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile

SIZES = [8, 64, 1024]
NATIVE_SIZES = [8, 64]
WORKLOADS = [
    ("self", "send+receive, one process", "instructions per send+receive"),
    ("pingpong", "ping-pong, two processes", "instructions per round trip"),
    ("stream1x1", "stream 1 producer to 1 consumer", "instructions per message"),
    ("stream4x4", "stream 4 producers to 4 consumers", "instructions per message"),
    ("bcast1x4", "broadcast 1 sender to 4 receivers, each gets every message",
     "instructions per message delivered"),
]
MODES = ["spsc", "mpsc", "mpmc"]
CHAN_IOCTL_PATHS = ["chan-id", "chan-fd"]
SHARE_OK = 0.9


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return None


def parse_vm(path):
    """ipc_bench output -> (config comments, {(wl, mech, size): row}, mech order)."""
    lines = read_lines(path)
    if lines is None:
        return None
    notes, rows, order = [], {}, []
    for line in lines:
        if line.startswith("# "):
            notes.append(line[2:])
            continue
        f = line.split(",")
        if len(f) != 7 or f[0] != "R":
            continue
        wl, mech, size, procs, ops, total = f[1], f[2], int(f[3]), int(f[4]), int(f[5]), int(f[6])
        rows[(wl, mech, size)] = dict(workload=wl, mechanism=mech, size=size, procs=procs,
                                      ops=ops, total=total, per_op=total / ops)
        if wl not in ("probe",) and mech not in order:
            order.append(mech)
    return notes, rows, order


def parse_native(path):
    lines = read_lines(path)
    if lines is None:
        return None
    notes, runs, order, peers = [], {}, [], set()
    for line in lines:
        if line.startswith("# "):
            notes.append(line[2:])
            if line.startswith("# queue "):
                name = line.split()[2]
                if "(peer)" in line:
                    peers.add(name)
            continue
        f = line.split(",")
        if len(f) != 9 or f[0] != "N":
            continue
        q, mode, size, run, n, ns, bad, share = f[1], f[2], int(f[3]), int(f[4]), int(f[5]), int(f[6]), int(f[7]), float(f[8])
        runs.setdefault((q, mode, size), []).append(
            dict(queue=q, mode=mode, size=size, run=run, n=n, ns=ns, bad=bad, share=share,
                 rate=n / ns * 1e9 if ns else 0.0))
        if q not in order:
            order.append(q)
    return notes, runs, order, peers


def native_summary(runs):
    """Median, min, max over the undisturbed runs; with fewer than 3 of
    those, over the 3 runs that had the largest CPU share (the least
    disturbed), and the cell is marked."""
    good = [r for r in runs if r["share"] >= SHARE_OK]
    disturbed = len(good) < 3
    use = sorted(runs, key=lambda r: -r["share"])[:3] if disturbed else good
    rates = [r["rate"] for r in use]
    return dict(median=statistics.median(rates), lo=min(rates), hi=max(rates),
                used=len(use), good=len(good), total=len(runs), disturbed=disturbed,
                share=statistics.median(r["share"] for r in use))


def fmt_int(v):
    return "–" if v is None else f"{v:,.0f}".replace(",", " ")


def fmt_ratio(v):
    return "–" if v is None else f"{v:.2f}"


def fmt_rate(v):
    return f"{v / 1e6:.1f}"


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def vm_value(rows, wl, mech, size):
    r = rows.get((wl, mech, size))
    return None if r is None else r["per_op"]


def vm_tables(rows, order, fmt, title_unit):
    """One table per workload: mechanisms x sizes, with ratios to mq and pipe."""
    out = []
    for wl, title, unit in WORKLOADS:
        if not any((wl, m, s) in rows for m in order for s in SIZES):
            continue
        header = ["mechanism"] + [f"{s} B" for s in SIZES] + \
                 [f"÷ mq {s} B" for s in SIZES] + [f"÷ pipe {s} B" for s in SIZES]
        body = []
        # A row that does not run this workload (calls, batches) is left out.
        for m in [m for m in order if any((wl, m, s) in rows for s in SIZES)]:
            vals = [vm_value(rows, wl, m, s) for s in SIZES]
            mq = [vm_value(rows, wl, "posix-mq", s) for s in SIZES]
            pipe = [vm_value(rows, wl, "pipe", s) for s in SIZES]
            ratio_mq = [v / b if v is not None and b else None for v, b in zip(vals, mq)]
            ratio_pipe = [v / b if v is not None and b else None for v, b in zip(vals, pipe)]
            name = f"**{m}**" if m.startswith("chan") else m
            body.append([name] + [fmt(v) for v in vals] + [fmt_ratio(v) for v in ratio_mq] +
                        [fmt_ratio(v) for v in ratio_pipe])
        out.append(f"**{title}** ({unit if title_unit is None else title_unit})\n\n" +
                   md_table(header, body))
    return "\n\n".join(out)


def best_peer(native, mode, size, among=None):
    """The fastest peer queue (by median) for a mode and size, of the
    peers named in among if given: (rate, name), or (0.0, None) if none
    ran."""
    _, runs, order, peers = native
    best, best_name = 0.0, None
    for q in order:
        if among is not None and q not in among:
            continue
        if q in peers and (q, mode, size) in runs:
            st = native_summary(runs[(q, mode, size)])
            if st["median"] > best:
                best, best_name = st["median"], q
    return best, best_name


def goals(icount, native):
    out = []
    if icount:
        rows = icount[1]
        for size in (8, 64):
            mq = vm_value(rows, "self", "posix-mq", size)
            for path in CHAN_IOCTL_PATHS:
                v = vm_value(rows, "self", path, size)
                if v is None or mq is None:
                    continue
                r = v / mq
                out.append([f"{path} send+receive ≤ 0.8 × POSIX mq, {size} B",
                            f"{v:.0f} vs {mq:.0f} instr: **{r:.2f}**",
                            "met" if r <= 0.8 else "**missed**"])
        for size in SIZES:
            ev = vm_value(rows, "pingpong", "eventfd", size)
            for path in [m for m in icount[2] if m.startswith("chan")]:
                v = vm_value(rows, "pingpong", path, size)
                if v is None or ev is None:
                    continue
                r = v / ev
                out.append([f"{path} ping-pong ≤ eventfd, {size} B",
                            f"{v:.0f} vs {ev:.0f} instr: **{r:.2f}**",
                            "met" if r <= 1.0 else "**missed**"])
    if native:
        runs = native[1]
        for mode, need, what in (("mpmc", 0.8, "best peer's MPMC"),
                                 ("spsc", 0.5, "best SPSC ring's")):
            for size in NATIVE_SIZES:
                if ("chan", mode, size) not in runs:
                    continue
                chan = native_summary(runs[("chan", mode, size)])
                best, best_name = best_peer(native, mode, size)
                if not best:
                    continue
                r = chan["median"] / best
                noisy = " (disturbed runs)" if chan["disturbed"] else ""
                out.append([f"native ring ≥ {need} × {what} throughput, {size} B",
                            f"{fmt_rate(chan['median'])} vs {fmt_rate(best)} M msg/s "
                            f"({best_name}): **{r:.2f}**{noisy}",
                            "met" if r >= need else "**missed**"])
    return md_table(["goal", "measured", "verdict"], out) if out else ""


# Issue 9 (the fast path): (workload, row, baseline row, bound, what), in
# guest instructions at 8 and 64 B; a ratio at most the bound is met.
FASTPATH_GOALS = [
    ("self", "chan-mmap", "posix-mq", 0.05, "fast-path send+receive ≤ 0.05 × POSIX mq"),
    ("stream1x1", "chan-mmap", "posix-mq", 0.1, "fast-path stream 1→1 ≤ 0.1 × POSIX mq"),
    ("stream4x4", "chan-mmap", "posix-mq", 0.5, "fast-path stream 4→4 ≤ 0.5 × POSIX mq"),
    ("pingpong", "chan-mmap-call", "eventfd", 0.8, "ping-pong with the call ≤ 0.8 × eventfd"),
    ("self", "chan-batch32", "chan-fd", 0.25,
     "batch-32 ioctl send+receive ≤ 0.25 × one ioctl each (chan-fd), per message"),
]
# Shown beside them, for comparison, with no bound.
FASTPATH_ALSO = [
    ("pingpong", "chan-mmap", "eventfd", "ping-pong on mapped handles without the call ÷ eventfd"),
    ("pingpong", "chan-fd-call", "eventfd", "ping-pong with CHAN_IOC_CALL on channel fds ÷ eventfd"),
    ("stream1x1", "chan-mmap-batch32", "posix-mq", "stream 1→1 with chan_ep batches of 32 ÷ POSIX mq"),
    ("stream4x4", "chan-mmap-batch32", "posix-mq", "stream 4→4 with chan_ep batches of 32 ÷ POSIX mq"),
]
# Natively, MPMC code paths: (bound, what); a ratio at least the bound is met.
NATIVE_FP = "libchan-fp"
NATIVE_REF = "vyukov-ref"


def fastpath_goals(icount, native):
    """Issue 9's goals, each as a ratio with met or missed. Reported,
    never asserted: nothing fails on a figure."""
    out = []
    if icount:
        rows = icount[1]
        for wl, row, base, bound, what in FASTPATH_GOALS:
            for size in (8, 64):
                v, b = vm_value(rows, wl, row, size), vm_value(rows, wl, base, size)
                if v is None or b is None:
                    out.append([f"{what}, {size} B", "not measured", "–"])
                    continue
                r = v / b
                out.append([f"{what}, {size} B",
                            f"{row} {v:,.0f} vs {base} {b:,.0f} instr: **{r:.3f}**".replace(",", " "),
                            "met" if r <= bound else "**missed**"])
        for wl, row, base, what in FASTPATH_ALSO:
            for size in (8, 64):
                v, b = vm_value(rows, wl, row, size), vm_value(rows, wl, base, size)
                if v is None or b is None:
                    continue
                out.append([f"({what}, {size} B)",
                            f"{v:,.0f} vs {b:,.0f} instr: {v / b:.3f}".replace(",", " "),
                            "no goal"])
    if native:
        runs = native[1]
        for size in NATIVE_SIZES:
            if (NATIVE_FP, "mpmc", size) not in runs:
                continue
            fp = native_summary(runs[(NATIVE_FP, "mpmc", size)])
            noisy = " (disturbed runs)" if fp["disturbed"] else ""
            if (NATIVE_REF, "mpmc", size) in runs:
                ref = native_summary(runs[(NATIVE_REF, "mpmc", size)])
                r = fp["median"] / ref["median"]
                refnoisy = " (reference disturbed)" if ref["disturbed"] else ""
                out.append([f"native: libchan fast path ≥ 0.5 × the Vyukov ring, MPMC, {size} B",
                            f"{fmt_rate(fp['median'])} vs {fmt_rate(ref['median'])} M msg/s: "
                            f"**{r:.2f}**{noisy}{refnoisy}",
                            "met" if r >= 0.5 else "**missed**"])
            best, best_name = best_peer(native, "mpmc", size)
            if best:
                r = fp["median"] / best
                out.append([f"native: libchan fast path ≥ 1.0 × the best packaged MPMC queue, {size} B",
                            f"{fmt_rate(fp['median'])} vs {fmt_rate(best)} M msg/s "
                            f"({best_name}): **{r:.2f}**{noisy}",
                            "met" if r >= 1.0 else "**missed**"])
    return md_table(["goal", "measured", "verdict"], out) if out else ""


# Issue 10 (SPSC): the shipped SPSC fast path against the best SPSC ring
# in the same run, the rings the issue names (Boost spsc_queue, ck_ring,
# rte_ring); then, with no verdict, against the fastest peer of any kind
# in the SPSC rows (at 64 B that can be liburcu's wfcqueue, a linked
# queue, not a ring), and the compact protocol alone (what libchan-spsc
# runs, without the handle around it, docs/spsc-compact.md).
SPSC_SHIPPED = ("libchan-spsc-inline", "libchan-spsc")
SPSC_ALSO = ("chan-spsc-compact",)
SPSC_RINGS = ("boost-spsc", "ck_ring", "rte_ring")


def spsc_goals(native):
    """Issue 10's SPSC goal: libchan's SPSC fast path (inline, and through
    the handle) at least the best SPSC peer's throughput at 8 and 64 B.
    Reported, never asserted."""
    if not native:
        return ""
    runs = native[1]
    out = []

    def measured(st, best, best_name):
        r = st["median"] / best
        noisy = " (disturbed runs)" if st["disturbed"] else ""
        return r, (f"{fmt_rate(st['median'])} vs {fmt_rate(best)} M msg/s "
                   f"({best_name}): **{r:.2f}**{noisy}")

    for size in NATIVE_SIZES:
        best, best_name = best_peer(native, "spsc", size, SPSC_RINGS)
        any_best, any_name = best_peer(native, "spsc", size)
        if not best:
            continue
        for row in SPSC_SHIPPED + SPSC_ALSO:
            if (row, "spsc", size) not in runs:
                continue
            st = native_summary(runs[(row, "spsc", size)])
            r, text = measured(st, best, best_name)
            if row in SPSC_SHIPPED:
                how = ("inline (chan_spsc_try_send/try_recv)"
                       if row == "libchan-spsc-inline" else
                       "through the handle (chan_ep_try_send/try_recv)")
                out.append([f"native: libchan's SPSC fast path, {how}, ≥ 1.0 × the best SPSC ring, {size} B",
                            text, "met" if r >= 1.0 else "**missed**"])
                if any_name != best_name:
                    _, text = measured(st, any_best, any_name)
                    out.append([f"({row} against the fastest peer of any kind, {size} B)",
                                text, "no goal"])
            else:
                out.append([f"({row}, the protocol alone, without libchan's handle, {size} B)",
                            text, "no goal"])
    return md_table(["goal", "measured", "verdict"], out) if out else ""


def epstats(icount):
    """The '# epstats' lines of ipc_bench: what the endpoint handles of each
    chan-mmap queue did (libchan's counters, every process, warm-up
    included)."""
    body, seen = [], {}
    for line in icount[0]:
        if not line.startswith("epstats "):
            continue
        head, _, kv = line.partition(": ")
        _, mech, wl, size = head.split()
        # Ping-pong tears down its two queues in turn: requests, replies.
        n = seen[(mech, wl, size)] = seen.get((mech, wl, size), 0) + 1
        if wl == "pingpong":
            wl = "pingpong, requests" if n == 1 else "pingpong, replies"
        c = dict(x.split("=") for x in kv.split())
        c = {k: int(v) for k, v in c.items()}
        fast = c["fast_sent"] + c["fast_received"]
        kern = c["kernel_sent"] + c["kernel_received"]
        body.append([mech, wl, size, str(c["fast_sent"]), str(c["fast_received"]),
                     str(c["kernel_sent"]), str(c["kernel_received"]), str(c["wakes"]),
                     str(c.get("batch_eagain", 0)),
                     f"{100 * fast / (fast + kern):.1f}%" if fast + kern else "–",
                     f"{(kern + c['wakes']) / (fast + kern):.3f}" if fast + kern else "–"])
    if not body:
        return ""
    return md_table(["row", "workload", "bytes", "fast sent", "fast received", "kernel sent",
                     "kernel received", "WAKE ioctls", "batch EAGAIN", "moved through the mapping",
                     "(kernel moves + WAKEs) ÷ (sends + receives)"],
                    body)


def native_tables(native):
    notes, runs, order, peers = native
    out = []
    for mode in MODES:
        present = [q for q in order if any((q, mode, s) in runs for s in NATIVE_SIZES)]
        if not present:
            continue
        best = {}
        for s in NATIVE_SIZES:
            meds = [native_summary(runs[(q, mode, s)])["median"]
                    for q in present if q in peers and (q, mode, s) in runs]
            best[s] = max(meds) if meds else None
        header = ["queue"] + sum(([f"{s} B: M msg/s (min–max)", f"{s} B ÷ best peer"]
                                  for s in NATIVE_SIZES), [])
        body = []
        for q in present:
            row = [q if q in peers else f"**{q}**" if q in ("chan", NATIVE_FP) else f"*{q}*"]
            for s in NATIVE_SIZES:
                if (q, mode, s) not in runs:
                    row += ["–", "–"]
                    continue
                st = native_summary(runs[(q, mode, s)])
                mark = " †" if st["disturbed"] else ""
                row.append(f"{fmt_rate(st['median'])} ({fmt_rate(st['lo'])}–{fmt_rate(st['hi'])}){mark}")
                row.append(fmt_ratio(st["median"] / best[s]) if best[s] else "–")
            body.append(row)
        out.append(f"**{mode.upper()}** code paths, 1 producer + 1 consumer thread\n\n" +
                   md_table(header, body))
    return "\n\n".join(out)


def write_csv(path, config, icount, wall, native):
    with open(path, "w", newline="") as f:
        for line in config:
            f.write(f"# {line}\n")
        for p, data in (("icount", icount), ("wall", wall)):
            if data:
                for line in data[0]:
                    f.write(f"# {p}: {line}\n")
        if native:
            for line in native[0]:
                f.write(f"# native: {line}\n")
        w = csv.writer(f)
        w.writerow(["pass", "workload", "mechanism", "msg_bytes", "procs", "run", "ops",
                    "total_ns", "value", "unit", "cpu_share"])
        for p, data, unit in (("icount", icount, "instructions/op"),
                              ("wall-tcg-smp2", wall, "ns/op")):
            if not data:
                continue
            for r in data[1].values():
                w.writerow([p, r["workload"], r["mechanism"], r["size"], r["procs"], 0,
                            r["ops"], r["total"], f"{r['per_op']:.1f}", unit, ""])
        if native:
            for rs in native[1].values():
                for r in rs:
                    w.writerow(["native", r["mode"], r["queue"], r["size"], 2, r["run"],
                                r["n"], r["ns"], f"{r['rate']:.0f}", "msg/s",
                                f"{r['share']:.3f}"])


def plots(out, icount, native):
    """Clustered bar charts with gnuplot; returns the PNG names written."""
    try:
        subprocess.run(["gnuplot", "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        print("report: gnuplot not found, no plots", file=sys.stderr)
        return []
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        script = ["set terminal pngcairo size 1000,520 font ',10' noenhanced",
                  "set style data histogram",
                  "set style fill solid 0.85 border -1",
                  "set boxwidth 0.9", "set grid ytics", "set key top left",
                  "set xtics rotate by -30"]
        if icount:
            rows, order = icount[1], icount[2]
            for wl, title, unit in WORKLOADS:
                if not any((wl, m, s) in rows for m in order for s in SIZES):
                    continue
                dat = os.path.join(tmp, f"{wl}.dat")
                with open(dat, "w") as f:
                    for m in [m for m in order if any((wl, m, s) in rows for s in SIZES)]:
                        vals = [vm_value(rows, wl, m, s) for s in SIZES]
                        f.write(m + " " + " ".join("NaN" if v is None else f"{v:.0f}"
                                                   for v in vals) + "\n")
                png = f"icount_{wl}.png"
                script += ["set style histogram clustered gap 1",
                           f"set output '{os.path.join(out, png)}'",
                           f"set title 'chan vs kernel IPC: {title} (QEMU icount, 1 vCPU)'",
                           f"set ylabel '{unit}'", "set yrange [0:*]",
                           f"plot '{dat}' using 2:xtic(1) title '8 B', '' using 3 title '64 B',"
                           " '' using 4 title '1024 B'"]
                made.append(png)
        if native:
            _, runs, order, peers = native
            for mode in MODES:
                present = [q for q in order if any((q, mode, s) in runs for s in NATIVE_SIZES)]
                if not present:
                    continue
                dat = os.path.join(tmp, f"native_{mode}.dat")
                with open(dat, "w") as f:
                    for q in present:
                        cols = []
                        for s in NATIVE_SIZES:
                            if (q, mode, s) in runs:
                                st = native_summary(runs[(q, mode, s)])
                                cols += [st["median"] / 1e6, st["lo"] / 1e6, st["hi"] / 1e6]
                            else:
                                cols += [float("nan")] * 3
                        f.write(q + " " + " ".join(f"{c:.3f}" for c in cols) + "\n")
                png = f"native_{mode}.png"
                script += ["set style histogram errorbars gap 1 lw 1",
                           f"set output '{os.path.join(out, png)}'",
                           f"set title 'ring throughput, {mode.upper()} code paths, "
                           "1 producer + 1 consumer (median, min-max)'",
                           "set ylabel 'million messages per second'", "set yrange [0:*]",
                           f"plot '{dat}' using 2:3:4:xtic(1) title '8 B',"
                           " '' using 5:6:7 title '64 B'"]
                made.append(png)
        gp = os.path.join(tmp, "plots.gp")
        with open(gp, "w") as f:
            f.write("\n".join(script) + "\n")
        r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        if r.returncode:
            print("report: gnuplot failed:\n" + r.stderr, file=sys.stderr)
            return []
    return made


def repeat_check(first, second):
    """Compare two icount passes: the table (per-op figures as printed) and
    the raw totals. Returns (table_same, line for the report)."""
    r1, r2 = first[1], second[1]
    if set(r1) != set(r2):
        return False, "icount rows repeat: no (the two passes measured different rows)"
    table_diff = [k for k in r1 if fmt_int(r1[k]["per_op"]) != fmt_int(r2[k]["per_op"])]
    raw_diff = [k for k in r1 if r1[k]["total"] != r2[k]["total"]]
    worst = max((abs(r1[k]["per_op"] - r2[k]["per_op"]) for k in raw_diff), default=0)
    if not raw_diff:
        return True, f"icount rows repeat: yes (all {len(r1)} rows identical to the instruction)"
    if not table_diff:
        return True, (f"icount rows repeat: yes (every figure of the tables; {len(raw_diff)} of "
                      f"{len(r1)} raw totals differ, by at most {worst:.2f} instructions per operation)")
    names = ", ".join(f"{w} {m} {s} B" for (w, m, s) in table_diff[:6])
    return False, (f"icount rows repeat: no ({len(table_diff)} of {len(r1)} figures differ, "
                   f"at most {worst:.1f} instructions per operation: {names})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", action="store_true",
                    help="compare icount.txt with icount2.txt; exit 3 if the tables differ")
    a = ap.parse_args()

    config = read_lines(os.path.join(a.raw, "config.txt")) or []
    icount = parse_vm(os.path.join(a.raw, "icount.txt"))
    wall = parse_vm(os.path.join(a.raw, "wall.txt"))
    native = parse_native(os.path.join(a.raw, "native.txt"))
    os.makedirs(a.out, exist_ok=True)
    repeated = None
    if a.repeat:
        second = parse_vm(os.path.join(a.raw, "icount2.txt"))
        if icount and second:
            repeated, line = repeat_check(icount, second)
            config.append(line)
            print(line)

    md = ["# chan benchmark results", "",
          "Written by `make bench` (scripts/bench.sh); how to read and reproduce "
          "them: bench/README.md. Every raw figure and the configuration: "
          "results.csv.", ""]
    md += ["```"] + config + ["```", ""]
    if icount:
        md += ["## Kernel paths: guest instructions per operation",
               "", "QEMU `-icount shift=0,sleep=off`, one vCPU: the guest TSC counts "
               "instructions, user and kernel. How exactly the figures repeat from "
               "boot to boot: the repeat line above and bench/README.md "
               "(Reproducibility). Capacity 64 messages (pipe: the smallest pipe holding 64; SysV: "
               "64 messages' bytes; seqpacket: default buffer). Lower is better; "
               "÷ columns are the ratio to POSIX mq and to pipe.", "",
               vm_tables(icount[1], icount[2], fmt_int, None), ""]
        probes = [r for (wl, _, _), r in icount[1].items() if wl == "probe"]
        split = [(m, s) for m in icount[2] for s in SIZES
                 if ("send", m, s) in icount[1]]
        if probes or split:
            md += ["### Sub-paths", "",
                   "Instructions per call of parts of the path (probe), and the "
                   "send and receive halves of send+receive measured apart "
                   "(a batch of 32 sends, then 32 receives).", ""]
            if probes:
                md += [md_table(["probe", "instructions per call"],
                                [[r["mechanism"], fmt_int(r["per_op"])] for r in probes]), ""]
            if split:
                body = []
                for m in [m for m in icount[2] if any(("send", m, s) in icount[1] for s in SIZES)]:
                    row = [m]
                    for s in SIZES:
                        row += [fmt_int(vm_value(icount[1], "send", m, s)),
                                fmt_int(vm_value(icount[1], "recv", m, s))]
                    body.append(row)
                md += [md_table(["mechanism"] + sum(([f"send {s} B", f"recv {s} B"]
                                                     for s in SIZES), []), body), ""]
    if icount:
        t = epstats(icount)
        if t:
            md += ["### The fast path's own counts", "",
                   "libchan's counters (chan_ep_get_stats) summed over every process "
                   "of each mapped queue, warm-up included: messages moved through the "
                   "mapping and through the kernel, the WAKE ioctls asked for sleepers, "
                   "and (batch rows) how often a blocking chan_ep batch answered "
                   "-EAGAIN and the benchmark waited with one blocking call instead.",
                   "", t, ""]
    if wall:
        md += ["## Kernel paths, wall clock (noisy)", "",
               "The same binary in QEMU TCG with 2 vCPUs and no icount: nanoseconds "
               "per operation of an emulated CPU on a shared host. These move from "
               "run to run; only the icount tables above count instructions.", "",
               vm_tables(wall[1], wall[2], fmt_int, "ns per operation"), ""]
    if native:
        md += ["## The ring itself, native on the host", "",
               "kmod/chan_ring.h compiled in user space (-O2, no -march) against "
               "the peers, capacity 1024, one producer and one consumer thread "
               "pinned to the two CPUs; SPSC, MPSC and MPMC are the queues' code "
               "paths for that many producers and consumers (a queue with one "
               "protocol runs it in every mode). Median of the runs, min–max in "
               "brackets; throughput ÷ the best peer (**chan** is the ring "
               "protocol alone, *libchan-fp* libchan's fast path around it: "
               "checks, state word, statistics, full barrier and waiter count; "
               "*vyukov-ref* is a textbook ring for reference, not a peer). † marks a cell where "
               "fewer than 3 runs had both threads on a CPU ≥ 90% of the time "
               "(the host was busy): its figures are from the 3 least disturbed "
               "runs and are not trustworthy.", "",
               native_tables(native), ""]
        for line in native[0]:
            if line.startswith("loadavg"):
                md.append(f"Host {line}.  ")
        md.append("")
    g = goals(icount, native)
    if g:
        md += ["## Goals (issue 4)", "", g, ""]
    g = fastpath_goals(icount, native)
    if g:
        md += ["## Goals (issue 9: the fast path)", "",
               "Reported, never asserted. Guest instructions under icount, each row "
               "÷ its baseline in the same boot; natively, MPMC code paths, medians "
               "of the same run. Where a goal is missed, bench/README.md and "
               "docs/benchmarks.md say where the instructions go (profile.txt).", "", g, ""]
        print("\n## Goals (issue 9: the fast path)\n\n" + g + "\n", file=sys.stderr)
    g = spsc_goals(native)
    if g:
        md += ["## Goals (issue 10: SPSC)", "",
               "Reported, never asserted: medians of the native pass, SPSC code "
               "paths, in the same run. The goal is the issue's: the best of "
               "the SPSC rings it names (" + ", ".join(SPSC_RINGS) + "); "
               "where another peer (a linked queue) was faster, a row without "
               "verdict says so. docs/spsc-compact.md says where the "
               "shipped path's time goes and what the compact ring changes.", "",
               g, ""]
        print("\n## Goals (issue 10: SPSC)\n\n" + g + "\n", file=sys.stderr)
    pngs = plots(a.out, icount, native)
    if pngs:
        md += ["## Plots", ""] + [f"![{p}]({p})" for p in pngs] + [""]
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(md))
    write_csv(os.path.join(a.out, "results.csv"), config, icount, wall, native)
    if repeated is False:
        sys.exit(3)


if __name__ == "__main__":
    main()
