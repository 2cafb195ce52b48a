"""forecast_blend: the forecasting default (the network blended with a baseline that validation chooses) against
the network alone and the ridge residual, with the forecast day's temperature known (a perfect weather forecast,
the default) or only up to the forecast origin."""
from .base import Study
from .short_series import MODELS, QUICK, forecast_claims, report_over

TEMPERATURE = {"known": [], "past only": ["experiment=forecasting_past_temperature"]}

NOTES = ["Half-hourly elecdemand, a week in and a day out, chronological 70/15/15 split: 54 test forecasts "
         "(mid-November to December 2014). With the temperature past-only, the network and the ridge both read "
         "the measured temperature only up to the forecast origin (`experiment=forecasting_past_temperature`); "
         "each baseline row is fitted on the same inputs as the column's runs.", ""]

STUDY = Study(
    name="forecast_blend",
    title="forecast_blend: the network, its blend with a baseline and the ridge residual, temperature known or "
          "past-only",
    base=["task=forecasting"],
    axes={"cell": {"LSTM": ["cell=lstm"]}, "temperature": TEMPERATURE, "model": MODELS},
    budget="the forecasting task's defaults (up to 20 epochs, early stopping on val MAPE), one core each",
    report=report_over("temperature", NOTES, "elecdemand: the model and its blends against the best baseline"),
    rows="model",
    quick=QUICK,
    quick_axes={"model": ["network alone", "blend with a baseline"]},
    claims=forecast_claims("temperature", TEMPERATURE),
)
