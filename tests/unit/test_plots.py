from matplotlib.backends.backend_agg import FigureCanvasAgg

from rnnsuite.plots import figure, log_x_ticks


def labels(ax):
    FigureCanvasAgg(ax.figure).draw()
    return ([t.get_text() for t in ax.get_xticklabels() if t.get_text()],
            [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()])


def test_log_axis_is_labelled_at_the_given_values_only():
    values = [50, 100, 200, 400]
    fig, ax = figure()
    ax.plot(values, [1, 2, 3, 4])
    log_x_ticks(ax, values)
    assert labels(ax) == (["50", "100", "200", "400"], [])
    # matplotlib's own log axis labels minor ticks in this range (what the helper removes)
    fig, plain = figure()
    plain.plot(values, [1, 2, 3, 4])
    plain.set_xscale("log")
    plain.set_xticks(values, [str(v) for v in values])
    assert labels(plain)[1]
