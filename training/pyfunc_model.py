"""MLflow "models from code" entry: the pyfunc face of a forecast bundle.

MLflow copies this file into each logged model and runs it on load, so the
model is rebuilt from code rather than unpickled.
"""

import mlflow

from training.registry import ForecastModel

mlflow.models.set_model(ForecastModel())
