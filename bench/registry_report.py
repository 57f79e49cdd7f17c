#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn the registry pass of scripts/bench.sh into bench/results/registry.*.

Reads, from --raw: registry.txt (reg_bench inside the icount VM),
registry-config.txt, and with --repeat registry2.txt (a second boot);
writes to --out: registry.md and registry.csv. With --before FILE, the raw
output of an earlier pass (the module before a change) is shown beside.
Standard library only.
"""
import argparse
import csv
import os
import sys

from report import read_lines

CHAN_OPS = [
    ("chan-create", "create"),
    ("chan-lookup", "lookup by name"),
    ("chan-open", "open+close by ID"),
    ("chan-info", "info by ID"),
    ("chan-destroy", "destroy"),
]
MQ_OPS = [
    ("mq-create", "mq_open(O_CREAT)"),
    ("mq-unlink", "mq_unlink"),
    ("mq-open", "mq_open existing"),
]
NS_OPS = [
    ("dev-open-initial", "from the initial namespace"),
    ("dev-open-newest", "from the newest namespace"),
]
FLAT = 1.2  # the goal: at the limit within 1.2x of the figure at 100


def parse(path):
    """reg_bench output -> dict(notes, rows {(op, pop): row}, facts [(k, v)])."""
    lines = read_lines(path)
    if lines is None:
        return None
    notes, rows, facts = [], {}, []
    for line in lines:
        if line.startswith("# "):
            notes.append(line[2:])
            continue
        f = line.split(",", 2)
        if f[0] == "P" and len(f) == 3:
            facts.append((f[1], f[2]))
            continue
        f = line.split(",")
        if f[0] != "R" or len(f) != 5:
            continue
        op, pop, ops, total = f[1], int(f[2]), int(f[3]), int(f[4])
        rows[(op, pop)] = dict(op=op, pop=pop, ops=ops, total=total, per_op=total / ops)
    return dict(notes=notes, rows=rows, facts=facts)


def fact(data, key):
    for k, v in data["facts"]:
        if k == key:
            return v
    return None


def facts_all(data, key):
    return [v for k, v in data["facts"] if k == key]


def value(data, op, pop):
    r = data["rows"].get((op, pop))
    return None if r is None else r["per_op"]


def pops_of(data, ops):
    return sorted({p for (op, p) in data["rows"] if op in [o for o, _ in ops]})


def fmt_int(v):
    return "–" if v is None else f"{v:,.0f}".replace(",", " ")


def fmt_ratio(v):
    return "–" if v is None else f"{v:.2f}"


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def limit_pop(data):
    v = fact(data, "limit_population")
    return int(v) if v and v != "0" else None


def pop_label(data, pop):
    if pop == limit_pop(data):
        return f"{fmt_int(pop)} (limit {fmt_int(int(fact(data, 'limit')))})"
    return fmt_int(pop)


def channel_table(data):
    header = ["channels (queues)"] + [n for _, n in CHAN_OPS] + \
             [n for _, n in MQ_OPS] + ["lookup ÷ mq_open"]
    body = []
    for pop in pops_of(data, CHAN_OPS + MQ_OPS):
        look, mqo = value(data, "chan-lookup", pop), value(data, "mq-open", pop)
        body.append([pop_label(data, pop)] +
                    [fmt_int(value(data, op, pop)) for op, _ in CHAN_OPS] +
                    [fmt_int(value(data, op, pop)) for op, _ in MQ_OPS] +
                    [fmt_ratio(look / mqo if look and mqo else None)])
    return md_table(header, body)


def ns_table(data):
    header = ["IPC namespaces"] + [f"open+close of /dev/chan {n}" for _, n in NS_OPS]
    body = [[fmt_int(m)] + [fmt_int(value(data, op, m)) for op, _ in NS_OPS]
            for m in pops_of(data, NS_OPS)]
    return md_table(header, body)


def goals(data):
    """The goals of issue 12, as (rows for a table, all met?)."""
    out, ok = [], True
    pops = pops_of(data, CHAN_OPS)
    top = limit_pop(data)
    if pops and top is not None and pops[0] == 100:
        for op, name in CHAN_OPS:
            lo, hi = value(data, op, 100), value(data, op, top)
            if lo is None or hi is None:
                continue
            r = hi / lo
            met = r <= FLAT
            ok &= met
            out.append([f"chan {name} at the limit ≤ {FLAT} × at 100",
                        f"{fmt_int(hi)} vs {fmt_int(lo)}: **{r:.2f}**",
                        "met" if met else "**missed**"])
    else:
        out.append(["chan columns at the limit ≤ 1.2 × at 100",
                    "not measured (no 100 or no limit row)", "–"])
        ok = False
    worst = None
    for pop in pops:
        look, mqo = value(data, "chan-lookup", pop), value(data, "mq-open", pop)
        if look is None or mqo is None:
            continue
        r = look / mqo
        if worst is None or r > worst[0]:
            worst = (r, pop)
    if worst:
        met = worst[0] <= 1.0
        ok &= met
        cells = ", ".join(
            f"{fmt_int(p)}: {fmt_ratio(value(data, 'chan-lookup', p) / value(data, 'mq-open', p))}"
            for p in pops if value(data, "mq-open", p) and value(data, "chan-lookup", p))
        out.append(["chan lookup ≤ mq_open of an existing name, at every count",
                    f"lookup ÷ mq_open: {cells}", "met" if met else "**missed**"])
    ns = pops_of(data, NS_OPS)
    if len(ns) > 1:
        for op, name in NS_OPS:
            lo = value(data, op, ns[0]) if value(data, op, ns[0]) else value(data, op, ns[1])
            base = ns[0] if value(data, op, ns[0]) else ns[1]
            hi = value(data, op, ns[-1])
            if lo is None or hi is None or base == ns[-1]:
                continue
            r = hi / lo
            out.append([f"/dev/chan open {name}, {fmt_int(ns[-1])} namespaces ≤ {FLAT} × "
                        f"{fmt_int(base)}",
                        f"{fmt_int(hi)} vs {fmt_int(lo)}: **{r:.2f}**",
                        "met" if r <= FLAT else "**missed**"])
    return out, ok


def limit_notes(data):
    """What bounds one root user, in words."""
    out = []
    mem = fact(data, "mem_total_bytes")
    g = {k: fact(data, k) for k in ("max_channels", "max_user_channels", "max_user_ring_bytes",
                                    "max_total_ring_bytes", "count_limit", "default_reach",
                                    "default_stop", "ring_bytes_per_channel", "limit",
                                    "limit_check", "raised_stop", "not_raised")}
    if g["max_channels"]:
        out.append(f"module parameters at load: max_channels {g['max_channels']}, "
                   f"max_user_channels {g['max_user_channels']}, max_user_ring_bytes "
                   f"{g['max_user_ring_bytes']}, max_total_ring_bytes "
                   f"{g['max_total_ring_bytes']}; guest MemTotal {mem} bytes")
    if g["ring_bytes_per_channel"]:
        out.append(f"ring memory charged per channel (8 B × 1): {g['ring_bytes_per_channel']} bytes "
                   "(debugfs chan/users)")
    if g["default_stop"]:
        out.append(f"with the default parameters root stopped at {g['default_reach']} channels: "
                   f"{g['default_stop']}, short of the count limit {g['count_limit']} "
                   "(min of max_channels and max_user_channels)")
    elif g["default_reach"]:
        out.append(f"with the default parameters root reached the count limit, "
                   f"{g['default_reach']} channels (min of max_channels and max_user_channels)")
    for r in facts_all(data, "raised"):
        if r.startswith("max_"):
            out.append(f"raised for the run, in /sys/module/chan/parameters: {r} "
                       "(restored afterwards)")
    if g["not_raised"]:
        out.append(f"not raised: {g['not_raised']}")
    if g["raised_stop"]:
        out.append(f"even so the filling stopped: {g['raised_stop']}")
    if g["limit_check"]:
        out.append(f"at the limit: {g['limit_check']}")
    if g["limit"]:
        out.append(f"the limit row is measured with {fmt_int(int(g['limit']) - 1)} channels "
                   f"in existence: the channel CREATE adds is the {fmt_int(int(g['limit']))}th")
    for r in facts_all(data, "raised"):
        if not r.startswith("max_"):
            out.append(f"raised for the POSIX mq rows: {r}")
    return out


def section(data, config, title):
    md = [f"## {title}", ""]
    if config:
        md += ["```"] + config + ["```", ""]
    md += ["**Guest instructions per operation, one IPC namespace** (lower is better)", "",
           channel_table(data), ""]
    if pops_of(data, NS_OPS):
        md += ["**open(\"/dev/chan\") + close() with M IPC namespaces in existence**, each "
               "kept alive by an nsfs fd and having opened /dev/chan once (guest instructions)",
               "", ns_table(data), ""]
    g, _ = goals(data)
    md += ["**Goals of issue 12**", "", md_table(["goal", "measured", "verdict"], g), ""]
    lim = limit_notes(data)
    if lim:
        md += ["**Limits**", ""] + [f"- {x}" for x in lim] + [""]
    return md


def comparison(before, after):
    """after ÷ before, per cell of the channel table and the namespace table."""
    header = ["channels (queues)"] + [n for _, n in CHAN_OPS] + [n for _, n in MQ_OPS]
    body = []
    for pop in pops_of(after, CHAN_OPS + MQ_OPS):
        row = [pop_label(after, pop)]
        for op, _ in CHAN_OPS + MQ_OPS:
            a, b = value(after, op, pop), value(before, op, pop)
            if b is None and pop == limit_pop(after):
                b = value(before, op, limit_pop(before) or -1)
            row.append(fmt_ratio(a / b if a and b else None))
        body.append(row)
    out = md_table(header, body)
    ns = pops_of(after, NS_OPS)
    if ns:
        body = [[fmt_int(m)] + [fmt_ratio(value(after, op, m) / value(before, op, m))
                                if value(after, op, m) and value(before, op, m) else "–"
                                for op, _ in NS_OPS] for m in ns]
        out += "\n\n" + md_table(["IPC namespaces"] + [f"/dev/chan open {n}" for _, n in NS_OPS],
                                  body)
    if limit_pop(after) != limit_pop(before):
        out += (f"\n\nThe limit rows compare {fmt_int(limit_pop(after) or 0)} channels (after) "
                f"with {fmt_int(limit_pop(before) or 0)} (before).")
    return out


def repeat_line(first, second):
    r1, r2 = first["rows"], second["rows"]
    if set(r1) != set(r2):
        return False, "registry rows repeat: no (the two boots measured different rows)"
    diff = [k for k in r1 if r1[k]["total"] != r2[k]["total"]]
    if not diff:
        return True, f"registry rows repeat: yes (all {len(r1)} rows identical to the instruction)"
    worst = max(abs(r1[k]["per_op"] - r2[k]["per_op"]) for k in diff)
    names = ", ".join(f"{op} {p}" for op, p in diff[:6])
    return False, (f"registry rows repeat: no ({len(diff)} of {len(r1)} differ, at most "
                   f"{worst:.1f} instructions per operation: {names})")


def write_csv(path, configs, runs):
    with open(path, "w", newline="") as f:
        for name, config in configs:
            for line in config:
                f.write(f"# {name}: {line}\n" if name else f"# {line}\n")
        for name, data in runs:
            for line in data["notes"]:
                f.write(f"# {name}: {line}\n")
            for k, v in data["facts"]:
                f.write(f"# {name}: {k}: {v}\n")
        w = csv.writer(f)
        w.writerow(["run", "operation", "population", "population_kind", "ops", "total_ns",
                    "value", "unit"])
        for name, data in runs:
            for r in sorted(data["rows"].values(), key=lambda r: (r["op"], r["pop"])):
                kind = "namespaces" if r["op"].startswith("dev-") else \
                       "queues" if r["op"].startswith("mq-") else "channels"
                w.writerow([name, r["op"], r["pop"], kind, r["ops"], r["total"],
                            f"{r['per_op']:.1f}", "instructions/op"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", action="store_true",
                    help="compare registry.txt with registry2.txt; exit 3 if they differ")
    ap.add_argument("--before", help="raw output of an earlier registry pass, shown beside")
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    config = read_lines(os.path.join(a.raw, "registry-config.txt")) or []
    data = parse(os.path.join(a.raw, "registry.txt"))
    if not data or not data["rows"]:
        print("registry report: no figures in registry.txt", file=sys.stderr)
        sys.exit(1)
    repeated = None
    if a.repeat:
        second = parse(os.path.join(a.raw, "registry2.txt"))
        if second:
            repeated, line = repeat_line(data, second)
            config.append(line)
            print(line)
    before = None
    before_config = []
    if a.before:
        before = parse(a.before)
        if not before or not before["rows"]:
            print(f"registry report: no figures in {a.before}", file=sys.stderr)
            sys.exit(1)
        cfg = os.path.join(os.path.dirname(a.before),
                           os.path.basename(a.before).replace(".txt", "-config.txt"))
        if cfg != a.before:
            before_config = read_lines(cfg) or []

    ops, warm = "1 000", "64"
    for note in data["notes"]:
        for word in note.split():
            if word.startswith("ops="):
                ops = fmt_int(int(word[4:]))
            elif word.startswith("warm="):
                warm = word[5:]
    md = ["# chan registry at scale (issue 12)", "",
          "Written by `scripts/bench.sh` (the registry pass: `scripts/bench.sh "
          "--registry-only`); method and how to read it: bench/README.md, *The registry "
          "at scale*. Every raw figure: registry.csv.", "",
          "Method: `reg_bench` in the test VM under QEMU `-icount shift=0,sleep=off` "
          "(one vCPU; the guest TSC counts instructions, user and kernel), as root in the "
          "initial IPC namespace. N named channels (8-byte messages × 1 slot) exist; each "
          f"figure is the mean of {ops} operations (after {warm} untimed ones), each timed "
          "alone: *create* makes one more named channel and *destroy* destroys it again, "
          "so the population stays N; *lookup* is CHAN_IOC_LOOKUP of an existing name, "
          "*open+close* opens an endpoint (send and receive) by ID and closes it, *info* "
          "is INFO by ID; lookups, opens and infos visit the population with a prime "
          "stride. POSIX mq at the same counts of queues (mq_maxmsg 1, mq_msgsize 8): "
          "mq_open(O_CREAT | O_EXCL) of a new name then mq_unlink of it (the mq_close "
          "between them not timed), and mq_open of an existing name (its mq_close not "
          "timed). Each run of operations starts at the same phase of the kernel's tick; "
          "the figures repeat exactly from boot to boot.", ""]
    title = "Results" if not before else "After"
    md += section(data, config, title)
    if before:
        md += section(before, before_config, "Before")
        md += ["## After ÷ before", "",
               "POSIX mq's code is the same in both runs: its ratios show how far a "
               "different chan.ko (another initramfs, other allocations at boot) moves "
               "paths it does not touch.", "", comparison(before, data), ""]
    with open(os.path.join(a.out, "registry.md"), "w") as f:
        f.write("\n".join(md))
    runs = [("after" if before else "run", data)] + ([("before", before)] if before else [])
    configs = [("", config)] + ([("before", before_config)] if before else [])
    write_csv(os.path.join(a.out, "registry.csv"), configs, runs)
    if repeated is False:
        sys.exit(3)


if __name__ == "__main__":
    main()
