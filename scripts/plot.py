#!/usr/bin/env python3
"""Draw PNG figures from the outputs of `dbn` (needs matplotlib and numpy).

  plot.py curves LOG.jsonl [LOG2.jsonl ...] [--output curves.png] [--title T] [--log-scale]
      Learning curves and monitors from `dbn ... --log FILE.jsonl` files:
        pre-training  reconstruction error per epoch, one line per RBM (layer), plus the
                      free-energy gap, the pseudo-log-likelihood and the AIS log-likelihood
                      (training solid, held-out dashed) when the log has them;
        fine-tuning   train loss and error (%) per epoch, one line per phase ("finetune",
                      "baseline", ...) or per start/activation for `dbn compare` logs; test
                      error solid, validation error dashed (train error when neither is
                      logged); the per-layer gradient norm of the first logged epoch (solid)
                      and of the last one (dashed); the mean fraction of saturated (sigmoid,
                      tanh) or dead (ReLU) hidden units per epoch when logged.
  plot.py compare compare.json [--output compare.png] [--title T] [--log-scale]
      Grouped bars of the test error (%) from the JSON of `dbn compare`: one group per start,
      one bar per activation, values printed on the bars; a run that diverged or has no test
      error is a hatched bar labelled "diverged". With several seeds (an "arms" list in the
      JSON) each bar is the mean over the seeds with its 95% t-interval as an error bar.
  plot.py time compare.json [--output time.png] [--title T] [--log-scale] [--x seconds|epoch]
      Time to accuracy: test error (%) after each epoch against the seconds spent so far
      (pre-training included; or against the epoch), one line per start/activation: the
      mean over the seeds, with a band from the lowest to the highest seed.
  plot.py gradients compare.json [--output gradients.png] [--title T]
      The first epoch's per-layer gradient norms of every run (log y-axis, layer 1 = input
      side ... L = output layer), one line per start/activation.

Errors (missing files, bad JSON, nothing to plot) are one line on stderr and exit status 1.
Non-finite numbers, which `dbn` writes as the strings "nan", "inf" and "-inf", nulls and
absent fields are left out of the lines (the finite points are joined).
"""
import argparse
import json
import math
import os
import sys

try:
    import numpy as np
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import LogFormatter
except ImportError as error:  # pragma: no cover - depends on the machine
    sys.stderr.write(f"plot.py: error: {error} (install with: pip install matplotlib numpy)\n")
    sys.exit(1)

DPI = 120
plt.rcParams.update({
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "figure.titlesize": 14,
    "axes.grid": True,
    "grid.alpha": 0.3,
})
LINESTYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


class PlotError(Exception):
    """A problem with the input, reported as one line on stderr."""


def fail(message):
    sys.stderr.write(f"plot.py: error: {message}\n")
    sys.exit(1)


def number(value):
    """A float from a JSON value: None, "nan", "inf", "-inf" and non-numbers become nan."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)  # accepts "nan", "inf", "-inf"
        except ValueError:
            return math.nan
    return math.nan


def finite(value):
    return not math.isnan(value) and not math.isinf(value)


def points(xs, values, scale=1.0):
    """The (x, y) arrays of the finite values: a monitor logged every few epochs is one line,
    and a line stops where the run diverged (nan or inf)."""
    kept = [(x, v * scale) for x, v in zip(xs, values) if finite(v)]
    return np.array([k[0] for k in kept], dtype=float), np.array([k[1] for k in kept], dtype=float)


def any_finite(values):
    return any(finite(v) for v in values)


class PlainLogFormatter(LogFormatter):
    """Labels the ticks LogFormatter labels, as plain numbers (0.2, 3, 50 rather than 2x10^-1)."""

    def __call__(self, x, pos=None):
        return f"{x:g}" if super().__call__(x, pos) else ""


def log_y(ax):
    """A log y-axis with plain tick labels (minor ones too when the range is under two decades)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(PlainLogFormatter())
    ax.yaxis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def check_readable(path):
    if not os.path.exists(path):
        raise PlotError(f"{path}: no such file")
    if os.path.isdir(path):
        raise PlotError(f"{path}: is a directory, not a file")


def save(figure, path):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise PlotError(f"{path}: cannot write, the folder {folder} does not exist")
    try:
        figure.savefig(path, dpi=DPI)
    except (OSError, ValueError) as error:
        raise PlotError(f"{path}: cannot write ({error})")
    finally:
        plt.close(figure)
    print(f"Wrote {path}")


# MARK: - Logs


def read_log(path):
    """The records of one JSON-lines log: a list of (line number, dict)."""
    check_readable(path)
    records = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number_, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line.strip())
                except json.JSONDecodeError as error:
                    raise PlotError(f"{path}:{number_}: bad JSON line ({error.msg} at column {error.colno})")
                if not isinstance(record, dict):
                    raise PlotError(f"{path}:{number_}: expected a JSON object, got {type(record).__name__}")
                records.append((number_, record))
    except UnicodeDecodeError as error:
        raise PlotError(f"{path}: not a UTF-8 text file ({error.reason})")
    except OSError as error:
        raise PlotError(f"{path}: cannot read ({error.strerror})")
    return records


class Series:
    """The points of one line, in the order of the log."""

    def __init__(self, label):
        self.label = label
        self.epochs = []
        self.fields = {}
        self.layers = []  # fine-tuning: the per-layer diagnostics of each epoch

    def add(self, epoch, values, layers=None):
        self.epochs.append(epoch)
        for key, value in values.items():
            self.fields.setdefault(key, [math.nan] * (len(self.epochs) - 1)).append(value)
        for key, column in self.fields.items():
            if len(column) < len(self.epochs):
                column.append(math.nan)
        self.layers.append(layers or [])

    def column(self, key):
        return self.fields.get(key, [math.nan] * len(self.epochs))


PRETRAIN_FIELDS = ["reconstruction_error", "free_energy_gap", "pseudo_log_likelihood", "ais_log_z",
                   "training_log_likelihood", "held_out_log_likelihood"]
FINETUNE_FIELDS = ["train_loss", "train_error", "validation_error", "test_error", "learning_rate", "seconds"]


def collect(paths):
    """Pre-training series keyed by (file, phase, layer) and fine-tuning ones by (file, name)."""
    pretrain, finetune = {}, {}
    several = len(paths) > 1
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        prefix = f"{stem}: " if several else ""
        records = read_log(path)
        if not records:
            raise PlotError(f"{path}: the log is empty")
        phases = {r.get("phase") for _, r in records if "reconstruction_error" in r}
        for line, record in records:
            epoch = number(record.get("epoch"))
            if not finite(epoch):
                continue
            phase = record.get("phase") or "pretrain"
            if "reconstruction_error" in record:
                layer = record.get("layer")
                if not isinstance(layer, int) or isinstance(layer, bool):
                    raise PlotError(f"{path}:{line}: pre-training record without an integer \"layer\"")
                name = f"RBM {layer + 1}" + (f" ({phase})" if len(phases) > 1 else "")
                key = (path, phase, layer)
                if key not in pretrain:
                    pretrain[key] = Series(prefix + name)
                pretrain[key].add(epoch, {k: number(record.get(k)) for k in PRETRAIN_FIELDS})
            elif "train_loss" in record:
                if record.get("phase") == "compare" or "start" in record or "activation" in record:
                    name = f"{record.get('start', '?')}/{record.get('activation', '?')}"
                else:
                    name = str(phase)
                key = (path, name)
                if key not in finetune:
                    finetune[key] = Series(prefix + name)
                layers = record.get("layers")
                layers = [entry for entry in layers if isinstance(entry, dict)] if isinstance(layers, list) else []
                finetune[key].add(epoch, {k: number(record.get(k)) for k in FINETUNE_FIELDS}, layers)
    return list(pretrain.values()), list(finetune.values())


def styled(index):
    """Colour, line style and marker of the index-th line."""
    color = plt.get_cmap("tab10")(index % 10)
    return {"color": color, "linestyle": LINESTYLES[(index // 10) % len(LINESTYLES)],
            "marker": MARKERS[index % len(MARKERS)], "markersize": 4}


def legend(ax, count):
    if count > 6:
        # Many lines: beside the axes, where it hides none of them.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    elif count:
        ax.legend(loc="best", framealpha=0.85)


def epoch_axis(ax):
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)


def plot_fields(ax, series, field, percent=False, **extra):
    """One line per series of `field` against the epoch; the number of lines drawn."""
    drawn = 0
    for index, item in enumerate(series):
        values = item.column(field)
        if not any_finite(values):
            continue
        style = styled(index)
        style.update(extra)
        ax.plot(*points(item.epochs, values, 100 if percent else 1), label=item.label, **style)
        drawn += 1
    return drawn


def pretrain_panels(series):
    """(title, drawing function) for each pre-training panel with data."""
    panels = []

    def simple(field, title, ylabel):
        def draw(ax, log_scale):
            count = plot_fields(ax, series, field)
            ax.set_title(title)
            ax.set_ylabel(ylabel)
            epoch_axis(ax)
            if log_scale and field == "reconstruction_error":
                log_y(ax)
            legend(ax, count)
        return draw

    if any(any_finite(s.column("reconstruction_error")) for s in series):
        panels.append(simple("reconstruction_error", "Pre-training: reconstruction error", "reconstruction error"))
    if any(any_finite(s.column("free_energy_gap")) for s in series):
        panels.append(simple("free_energy_gap", "Pre-training: free-energy gap (held-out - training)",
                             "free-energy gap"))
    if any(any_finite(s.column("pseudo_log_likelihood")) for s in series):
        panels.append(simple("pseudo_log_likelihood", "Pre-training: pseudo-log-likelihood",
                             "pseudo-log-likelihood"))
    has_ll = any(any_finite(s.column(f)) for s in series
                 for f in ("training_log_likelihood", "held_out_log_likelihood"))
    if has_ll:
        def draw_ll(ax, log_scale):
            count = 0
            for index, item in enumerate(series):
                for field, style, suffix in (("training_log_likelihood", "-", "training"),
                                             ("held_out_log_likelihood", "--", "held-out")):
                    values = item.column(field)
                    if any_finite(values):
                        look = styled(index)
                        look["linestyle"] = style
                        drawn = suffix == "training" or not any_finite(item.column("training_log_likelihood"))
                        ax.plot(*points(item.epochs, values), label=item.label if drawn else "_nolegend_", **look)
                        count += drawn
            ax.set_title("Pre-training: log-likelihood (AIS)\nsolid: training, dashed: held-out")
            ax.set_ylabel("mean log-likelihood (nats)")
            epoch_axis(ax)
            legend(ax, count)
        panels.append(draw_ll)
    elif any(any_finite(s.column("ais_log_z")) for s in series):
        panels.append(simple("ais_log_z", "Pre-training: AIS estimate of log Z", "log Z"))
    return panels


def layer_mean(layers, key, hidden_only=True):
    """Mean of `key` over the (hidden) layers of one epoch's diagnostics; nan when absent."""
    entries = layers[:-1] if hidden_only and len(layers) > 1 else ([] if hidden_only else layers)
    values = [number(entry.get(key)) for entry in entries]
    values = [v for v in values if finite(v)]
    return sum(values) / len(values) if values else math.nan


def gradient_profile(layers):
    """Layer numbers (1 = input side) and gradient norms of one epoch's diagnostics."""
    points = []
    for position, entry in enumerate(layers, start=1):
        layer = entry.get("layer")
        layer = layer if isinstance(layer, int) and not isinstance(layer, bool) else position
        points.append((layer, number(entry.get("gradient_norm"))))
    points.sort()
    return [p[0] for p in points], [p[1] if finite(p[1]) and p[1] > 0 else math.nan for p in points]


def finetune_panels(series):
    panels = []
    if any(any_finite(s.column("train_loss")) for s in series):
        def draw_loss(ax, log_scale):
            count = plot_fields(ax, series, "train_loss")
            ax.set_title("Fine-tuning: training loss")
            ax.set_ylabel("mean training loss")
            epoch_axis(ax)
            if log_scale:
                log_y(ax)
            legend(ax, count)
        panels.append(draw_loss)

    has_test = any(any_finite(s.column("test_error")) for s in series)
    has_validation = any(any_finite(s.column("validation_error")) for s in series)
    has_train = any(any_finite(s.column("train_error")) for s in series)
    if has_test or has_validation or has_train:
        def draw_error(ax, log_scale):
            count = 0
            if has_test or has_validation:
                if has_test:
                    count += plot_fields(ax, series, "test_error", percent=True)
                if has_validation:
                    for index, item in enumerate(series):
                        values = item.column("validation_error")
                        if any_finite(values):
                            look = styled(index)
                            look.update(linestyle="--", marker=None)
                            label = "_nolegend_" if has_test and any_finite(item.column("test_error")) else item.label
                            ax.plot(*points(item.epochs, values, 100), label=label, **look)
                            count += 1
                title = "Fine-tuning: test error" if has_test else "Fine-tuning: validation error"
                if has_test and has_validation:
                    title = "Fine-tuning: test error\nsolid: test, dashed: validation"
            else:
                count += plot_fields(ax, series, "train_error", percent=True)
                title = "Fine-tuning: training error (no test or validation set logged)"
            ax.set_title(title)
            ax.set_ylabel("error (%)")
            epoch_axis(ax)
            if log_scale:
                log_y(ax)
            legend(ax, count)
        panels.append(draw_error)

    if any(any_finite(gradient_profile(layers)[1]) for s in series for layers in s.layers):
        def draw_gradients(ax, log_scale):
            count, spans = 0, set()
            for index, item in enumerate(series):
                epochs = [(epoch, layers) for epoch, layers in zip(item.epochs, item.layers)
                          if any_finite(gradient_profile(layers)[1])]
                if not epochs:
                    continue
                first, last = epochs[0], epochs[-1]
                look = styled(index)
                x, y = gradient_profile(first[1])
                ax.plot(x, y, label=item.label, **look)
                count += 1
                if last[0] != first[0]:
                    look.update(linestyle="--", alpha=0.7)
                    x, y = gradient_profile(last[1])
                    ax.plot(x, y, label="_nolegend_", **look)
                spans.add((first[0], last[0]))
            ax.set_yscale("log")
            if all(a == b for a, b in spans):
                subtitle = f"epoch {spans.pop()[0]:g}" if len(spans) == 1 else "first logged epoch"
            else:
                subtitle = "solid: first logged epoch, dashed: last"
                if len(spans) == 1:
                    a, b = spans.pop()
                    subtitle = f"solid: epoch {a:g}, dashed: epoch {b:g}"
            ax.set_title("Fine-tuning: gradient norm per layer\n" + subtitle)
            ax.set_xlabel("layer (1 = input side, last = output)")
            ax.set_ylabel("gradient norm (first minibatch)")
            ax.xaxis.get_major_locator().set_params(integer=True)
            legend(ax, count)
        panels.append(draw_gradients)

    def health(item):
        saturated = [layer_mean(layers, "saturated_fraction") for layers in item.layers]
        dead = [layer_mean(layers, "dead_fraction") for layers in item.layers]
        return saturated, dead

    if any(any_finite(values) for s in series for values in health(s)):
        def draw_health(ax, log_scale):
            named = set()
            for index, item in enumerate(series):
                saturated, dead = health(item)
                for values, style, name in ((saturated, "-", "saturated"), (dead, "--", "dead")):
                    if any_finite(values):
                        look = styled(index)
                        look["linestyle"] = style
                        ax.plot(*points(item.epochs, values, 100), label=item.label if item.label not in named else "_nolegend_", **look)
                        named.add(item.label)
            count = len(named)
            ax.set_title("Fine-tuning: saturated / dead hidden units\nsolid: saturated (sigmoid, tanh), dashed: dead (ReLU)")
            ax.set_ylabel("mean over hidden layers (%)")
            epoch_axis(ax)
            legend(ax, count)
        panels.append(draw_health)
    return panels


def command_curves(arguments):
    pretrain, finetune = collect(arguments.logs)
    panels = pretrain_panels(pretrain) + finetune_panels(finetune)
    if not panels:
        names = ", ".join(arguments.logs)
        raise PlotError(f"{names}: nothing to plot (no pre-training or fine-tuning records with numbers)")
    columns = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / columns)
    width = 8 if columns == 1 else 14
    height = 5 if rows == 1 else 4.5 * rows
    figure, axes = plt.subplots(rows, columns, figsize=(width, height), squeeze=False, layout="constrained")
    flat = list(axes.flat)
    for ax, draw in zip(flat, panels):
        draw(ax, arguments.log_scale)
    for ax in flat[len(panels):]:
        ax.set_visible(False)
    title = arguments.title or "Learning curves: " + ", ".join(os.path.basename(p) for p in arguments.logs)
    figure.suptitle(title)
    save(figure, arguments.output)


# MARK: - Compare JSON


def read_compare(path):
    check_readable(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise PlotError(f"{path}: not a UTF-8 text file ({error.reason})")
    except OSError as error:
        raise PlotError(f"{path}: cannot read ({error.strerror})")
    try:
        summary = json.loads(text)
    except json.JSONDecodeError as error:
        hint = "; a JSON-lines --log file? use `plot.py curves`" if error.msg == "Extra data" else ""
        raise PlotError(f"{path}:{error.lineno}: bad JSON ({error.msg} at column {error.colno}{hint})")
    if not isinstance(summary, dict) or not isinstance(summary.get("runs"), list):
        raise PlotError(f"{path}: not the JSON of `dbn compare` (expected an object with a \"runs\" list)")
    runs = [run for run in summary["runs"] if isinstance(run, dict)]
    if not runs:
        raise PlotError(f"{path}: nothing to plot (\"runs\" is empty)")
    return summary, runs


def run_name(run):
    return str(run.get("init", run.get("start", "?"))), str(run.get("activation", "?"))


def ordered(values):
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def architecture(summary):
    sizes = summary.get("layer_sizes")
    parts = []
    if isinstance(sizes, list) and sizes:
        parts.append("-".join(str(s) for s in sizes))
    if isinstance(summary.get("epochs"), int):
        parts.append(f"{summary['epochs']} epochs")
    return ", ".join(parts)


def command_compare(arguments):
    summary, runs = read_compare(arguments.file)
    starts = ordered(run_name(r)[0] for r in runs)
    activations = ordered(run_name(r)[1] for r in runs)
    table = {}
    for run in runs:
        table[run_name(run)] = run  # the last run of a pair wins

    # Several seeds: the per-arm means and 95% intervals replace the single runs.
    intervals = {}
    arms = [a for a in summary.get("arms", []) if isinstance(a, dict)]
    if arms and any(len(a.get("seeds", [])) > 1 for a in arms):
        table = {}
        runs = []
        for arm in arms:
            mean = arm.get("mean_test_error")
            run = {"init": arm.get("start"), "activation": arm.get("activation"),
                   "test_error": mean if mean is not None else "nan",
                   "diverged_at_epoch": None if mean is not None else "some seeds"}
            table[(str(arm.get("start")), str(arm.get("activation")))] = run
            runs.append(run)
            interval = arm.get("interval")
            if isinstance(interval, dict) and finite(number(interval.get("lower"))) and finite(number(interval.get("upper"))):
                intervals[run_name(run)] = (number(interval["lower"]) * 100, number(interval["upper"]) * 100)

    values = [number(r.get("test_error")) * 100 for r in runs if r.get("diverged_at_epoch") is None]
    values += [high for _, high in intervals.values()]
    values = [v for v in values if finite(v)]
    positive = [v for v in values if v > 0]
    top = max(positive) if positive else (1.0 if values else 100.0)
    hatched = top * 1.05 if values else 100.0  # the height of a diverged run's bar
    floor = min(positive) / 10 if positive else top / 100  # the bottom of a log-scale axis

    # Many bars: a wider figure and vertical value labels, so that neighbours do not overlap.
    crowded = len(starts) * len(activations) > 9
    figure, ax = plt.subplots(figsize=(11 if crowded else 8, 5), layout="constrained")
    groups = np.arange(len(starts))
    width = 0.8 / len(activations)
    colors = plt.get_cmap("tab10")
    any_diverged = False
    for a_index, activation in enumerate(activations):
        offsets = groups - 0.4 + width * (a_index + 0.5)
        color = colors(a_index % 10)
        for s_index, start in enumerate(starts):
            run = table.get((start, activation))
            if run is None:
                continue  # this pair was not run: an empty slot
            error = number(run.get("test_error")) * 100
            diverged = run.get("diverged_at_epoch")
            x = offsets[s_index]
            if diverged is not None or not finite(error):
                height = hatched
                ax.bar(x, height, width * 0.95, color="white", edgecolor=color, hatch="//", linewidth=1.5)
                any_diverged = True
                text = "diverged"
                if isinstance(diverged, str):
                    text += f"\n({diverged})"
                if isinstance(diverged, int) and not isinstance(diverged, bool):
                    text += f"\n(epoch {diverged})"
                y = math.sqrt(height * floor) if arguments.log_scale else height / 2
                ax.text(x, y, text, ha="center", va="center", rotation=90, fontsize=9, color="black",
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
            else:
                height = error if error > 0 or not arguments.log_scale else floor
                ax.bar(x, height, width * 0.95, color=color, edgecolor="black", linewidth=0.5)
                interval = intervals.get((start, activation))
                if interval is not None:
                    low, high = max(interval[0], floor if arguments.log_scale else 0), interval[1]
                    ax.errorbar(x, height, yerr=[[height - low], [high - height]], color="black", capsize=4, linewidth=1.2)
                    height = max(height, high)
                ax.annotate(f"{error:.2f}%", (x, height), xytext=(0, 3), textcoords="offset points",
                            ha="center", va="bottom", fontsize=8 if crowded else 9, rotation=90 if crowded else 0)
    ax.set_xticks(groups)
    ax.set_xticklabels(starts)
    ax.set_xlabel("start (initialization)")
    ax.set_ylabel("test error (%)" + (", log scale" if arguments.log_scale else ""))
    ax.grid(axis="x", visible=False)
    if arguments.log_scale:
        log_y(ax)
        ax.set_ylim(floor, hatched * 2.5)
    else:
        ax.set_ylim(0, hatched * (1.3 if crowded else 1.15))
    handles = [Patch(facecolor=colors(i % 10), edgecolor="black", linewidth=0.5, label=name)
               for i, name in enumerate(activations)]
    if any_diverged:
        handles.append(Patch(facecolor="white", edgecolor="gray", hatch="//", label="diverged / no error"))
    ax.legend(handles=handles, title="activation", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    details = architecture(summary)
    if intervals:
        seeds = summary.get("seeds", [])
        details += (", " if details else "") + f"mean of {len(seeds)} seeds, 95% t-interval"
    ax.set_title(arguments.title or "Test error by start and activation" + (f"\n{details}" if details else ""))
    save(figure, arguments.output)


def command_time(arguments):
    summary, runs = read_compare(arguments.file)
    names = ordered("/".join(run_name(r)) for r in runs)
    figure, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    drawn = 0
    for index, name in enumerate(names):
        group = [r for r in runs if "/".join(run_name(r)) == name and isinstance(r.get("test_errors"), list)]
        curves = []
        for run in group:
            errors = [number(v) * 100 if v is not None else math.nan for v in run["test_errors"]]
            if arguments.x == "epoch":
                xs = list(range(1, len(errors) + 1))
            else:
                xs = [number(v) for v in run.get("seconds_at_epoch", [])]
            if len(xs) == len(errors) and errors:
                curves.append((xs, errors))
        if not curves:
            continue
        length = min(len(xs) for xs, _ in curves)  # diverged seeds end early
        xs = np.array([[c[0][i] for i in range(length)] for c in curves], dtype=float)
        ys = np.array([[c[1][i] for i in range(length)] for c in curves], dtype=float)
        if not np.isfinite(ys).any():
            continue
        look = styled(index)
        x_mean = np.nanmean(xs, axis=0)
        ax.plot(x_mean, np.nanmean(ys, axis=0), label=f"{name} ({len(curves)} seed{'s' if len(curves) > 1 else ''})", **look)
        if len(curves) > 1:
            ax.fill_between(x_mean, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0), color=look.get("color"), alpha=0.18)
        drawn += 1
    if not drawn:
        plt.close(figure)
        raise PlotError(f"{arguments.file}: nothing to plot (no run has \"test_errors\" with \"seconds_at_epoch\")")
    if arguments.log_scale:
        log_y(ax)
    ax.set_xlabel("seconds, pre-training included (mean over seeds)" if arguments.x == "seconds" else "epoch")
    ax.set_ylabel("test error (%)" + (", log scale" if arguments.log_scale else ""))
    legend(ax, drawn)
    details = architecture(summary)
    ax.set_title(arguments.title or "Time to accuracy: mean over seeds, band from lowest to highest seed"
                 + (f"\n{details}" if details else ""))
    save(figure, arguments.output)


def command_gradients(arguments):
    summary, runs = read_compare(arguments.file)
    sizes = summary.get("layer_sizes")
    starts = ordered(run_name(r)[0] for r in runs)
    activations = ordered(run_name(r)[1] for r in runs)
    figure, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    count, depth = 0, 0
    # With several seeds, one line per arm: its first seed's run (the start's gradients).
    first_seed, plotted = runs[0].get("seed"), set()
    for run in runs:
        if run_name(run) in plotted:
            continue
        plotted.add(run_name(run))
        norms = run.get("first_epoch_gradient_norms")
        if not isinstance(norms, list):
            continue
        values = [number(v) for v in norms]
        values = [v if finite(v) and v > 0 else math.nan for v in values]
        if not any_finite(values):
            continue
        start, activation = run_name(run)
        a_index, s_index = activations.index(activation), starts.index(start)
        label = f"{start} / {activation}"
        if run.get("diverged_at_epoch") is not None:
            label += f" (diverged, epoch {run['diverged_at_epoch']})"
        layers = np.arange(1, len(values) + 1)
        ax.plot(layers, values, label=label, color=plt.get_cmap("tab10")(a_index % 10),
                linestyle=LINESTYLES[s_index % len(LINESTYLES)], marker=MARKERS[s_index % len(MARKERS)],
                markersize=6, linewidth=1.8)
        count += 1
        depth = max(depth, len(values))
    if not count:
        plt.close(figure)
        raise PlotError(f"{arguments.file}: nothing to plot (no run has positive finite \"first_epoch_gradient_norms\")")
    ax.set_yscale("log")
    ticks = list(range(1, depth + 1))
    labels = [str(t) for t in ticks]
    if isinstance(sizes, list) and len(sizes) == depth + 1:
        labels = [f"{t}\n{sizes[t - 1]}\u2192{sizes[t]}" for t in ticks]
    labels[-1] += "\n(output)" if len(labels[-1].split("\n")) < 2 else " (output)"
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels)
    ax.set_xlim(0.7, depth + 0.3)
    ax.set_xlabel("layer (input side \u2192 output)")
    ax.set_ylabel("gradient norm, first epoch (log scale)")
    ax.grid(True, which="both", axis="y", alpha=0.25)
    figure.legend(*ax.get_legend_handles_labels(), title="start / activation", loc="outside lower center",
                  ncol=min(3, count), fontsize=9)
    details = architecture(summary)
    seeds = ordered(r.get("seed") for r in runs)
    if len(seeds) > 1 and first_seed is not None:
        details += (", " if details else "") + f"each arm's first run (seed {first_seed})"
    ax.set_title(arguments.title or "First-epoch gradient norm per layer" + (f"\n{details}" if details else ""))
    save(figure, arguments.output)


def read_loglik(path):
    """The JSON report of `dbn loglik --json` (the last line of PATH that is a JSON object)."""
    check_readable(path)
    with open(path) as f:
        lines = [line for line in f if line.lstrip().startswith("{")]
    if not lines:
        raise PlotError(f"{path}: no JSON report (expected the output of dbn loglik --json)")
    try:
        report = json.loads(lines[-1])
    except json.JSONDecodeError as error:
        raise PlotError(f"{path}: the last JSON line does not parse ({error})")
    if "test_log_likelihood" not in report:
        raise PlotError(f"{path}: no \"test_log_likelihood\" (expected the output of dbn loglik --json)")
    return report


def command_loglik(arguments):
    figure, ax = plt.subplots(figsize=(11, 5), layout="constrained")
    for index, (label, path, seconds) in enumerate(arguments.runs):
        report = read_loglik(path)
        try:
            x = float(seconds)
        except ValueError:
            raise PlotError(f"--run {label}: the seconds must be a number, got {seconds!r}")
        ais = number(report["test_log_likelihood"])
        reverse = report.get("test_log_likelihood_reverse")
        look = styled(index)
        ax.plot([x], [ais], linestyle="none", marker=look.get("marker", "o"), color=look.get("color"),
                markersize=8, label=label + (f": {ais:.1f} / {number(reverse):.1f}" if reverse is not None else f": {ais:.1f}"))
        if reverse is not None:
            # The bar spans the two estimates (AIS errs high; reverse AIS from exact samples errs low).
            ax.vlines(x, number(reverse), ais, color=look.get("color"), linewidth=2.5, alpha=0.6)
    ax.set_xscale("log")
    ax.set_xlabel(arguments.x_label)
    ax.set_ylabel("average test log-probability (nats)")
    ax.grid(True, which="both", alpha=0.25)
    # Beside the axes: with a dozen recipes a legend inside would hide some of the markers.
    ax.legend(title="recipe: AIS / reverse AIS", fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(arguments.title or "RBM test log-likelihood against training time\n(marker: AIS; bar to the reverse-AIS estimate)")
    save(figure, arguments.output)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="plot.py", description="Draw PNG figures from the outputs of dbn.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{curves,compare,gradients,time,loglik}")

    curves = commands.add_parser("curves", help="learning curves and monitors from --log JSON-lines files")
    curves.add_argument("logs", nargs="+", metavar="LOG.jsonl")
    curves.add_argument("--output", "-o", default="curves.png", help="PNG to write (default: curves.png)")
    curves.add_argument("--log-scale", action="store_true",
                        help="log y-axis for the reconstruction error, loss and error panels")
    curves.set_defaults(run=command_curves)

    compare = commands.add_parser("compare", help="grouped test-error bars from the JSON of dbn compare")
    compare.add_argument("file", metavar="compare.json")
    compare.add_argument("--output", "-o", default="compare.png", help="PNG to write (default: compare.png)")
    compare.add_argument("--log-scale", action="store_true", help="log y-axis")
    compare.set_defaults(run=command_compare)

    gradients = commands.add_parser("gradients", help="first-epoch gradient norms per layer from dbn compare")
    gradients.add_argument("file", metavar="compare.json")
    gradients.add_argument("--output", "-o", default="gradients.png", help="PNG to write (default: gradients.png)")
    gradients.set_defaults(run=command_gradients)

    time = commands.add_parser("time", help="test error against seconds (pre-training included) from dbn compare")
    time.add_argument("file", metavar="compare.json")
    time.add_argument("--output", "-o", default="time.png", help="PNG to write (default: time.png)")
    time.add_argument("--log-scale", action="store_true", help="log y-axis")
    time.add_argument("--x", choices=["seconds", "epoch"], default="seconds", help="x axis (default: seconds)")
    time.set_defaults(run=command_time)

    loglik = commands.add_parser("loglik", help="test log-likelihood (AIS, reverse AIS) against training time")
    loglik.add_argument("--run", dest="runs", nargs=3, action="append", required=True, metavar=("LABEL", "LOGLIK.txt", "SECONDS"),
                        help="a recipe: its label, the output of dbn loglik --json, its training seconds")
    loglik.add_argument("--output", "-o", default="loglik.png", help="PNG to write (default: loglik.png)")
    loglik.add_argument("--x-label", default="training time (CPU seconds, one thread; log scale)",
                        help="x-axis label")
    loglik.set_defaults(run=command_loglik)

    for sub in (curves, compare, gradients, time, loglik):
        sub.add_argument("--title", help="figure title (replaces the default)")

    arguments = parser.parse_args(argv)
    try:
        arguments.run(arguments)
    except PlotError as error:
        fail(str(error))


if __name__ == "__main__":
    main()
