"""Forecasting: sequence -> sequence, multi-horizon, on half-hourly electricity demand (or any CSV series)."""
from rnnsuite.registry import PredictCase, Task

TASK = Task(
    name="forecasting",
    description="sequence -> sequence, multi-horizon: a day of half-hourly electricity demand from a week",
    predict="rnnsuite.tasks.forecasting.predict:predict",
    metrics={"loss": "training loss (pinball, or MAE/MSE) on scaled values",
             "mae": "mean absolute error, original units", "rmse": "root mean squared error",
             "mape": "mean absolute percentage error (%)",
             "mape_network": "the network's own MAPE, before the blend with a baseline (= mape without one)",
             "mase": "MAE over the train series' seasonal-naive MAE",
             "coverage": "share of actuals inside the p10-p90 band (after calibration)",
             "coverage_uncalibrated": "the same before calibration",
             "coverage_split": "the same with the val-fitted pad alone (without online recalibration)",
             "interval_width": "mean p90 - p10",
             "interval_score": "mean interval (Winkler) score of the p10-p90 band, original units; lower is better"},
    fixture=("data=forecast_fixture",),
    # its input is a time-indexed table, so it predicts from a file only
    predict_file=PredictCase(("csv={file}", "out={dir}/forecast.csv"), file_name="recent.csv",
                             file_maker="rnnsuite.tasks.forecasting.predict:example_csv"),
)
