"""MLflow's scoring protocol, so clients written for ``mlflow models serve`` work unchanged.

The request is parsed and scored by MLflow's own scoring-server function on the served pyfunc
(``dataframe_split``, ``dataframe_records``, ``inputs``/``instances`` and ``params`` as JSON, or
CSV); the answer is ``{"predictions": [...]}`` exactly as ``mlflow models serve`` writes it.
Errors use this service's error shape.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import scoring_server

from serving.auth import API_KEY_HEADER, reader
from serving.errors import ERROR_RESPONSES, ServingError
from serving.routes.common import service_of

router = APIRouter(tags=["mlflow"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "example": {
                    "dataframe_split": {"columns": ["unique_id"], "data": [["CA_1__FOODS_3_090"]]},
                    "params": {"h": 7, "level": [80, 95]},
                },
            },
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


def invocations_access(request: Request, header_key: str | None = Depends(API_KEY_HEADER)) -> None:
    """A reader key, unless the deployment serves /invocations publicly."""
    if not request.app.state.settings.public_invocations:
        reader(request, header_key)


@router.post(
    "/invocations",
    dependencies=[Depends(invocations_access)],
    responses=ERROR_RESPONSES,
    openapi_extra=_BODY,
    summary="MLflow scoring protocol (as `mlflow models serve`)",
)
async def invocations(request: Request) -> Response:
    model = service_of(request).model()
    data = await request.body()
    content_type = request.headers.get("content-type")
    if not content_type:
        raise ServingError(
            415, "unsupported_media_type", "Content-Type must be application/json or text/csv"
        )
    schema = model.pyfunc.metadata.get_input_schema()
    try:
        result = await run_in_threadpool(
            scoring_server.invocations, data, content_type, model.pyfunc, schema
        )
    except MlflowException as error:
        raise ServingError(
            error.get_http_status_code(), "invalid_input", _mlflow_message(error)
        ) from error
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
        raise ServingError(400, "invalid_input", f"{type(error).__name__}: {error}") from error
    if result.status != 200:
        raise ServingError(result.status, "unsupported_media_type", result.response)
    return Response(
        result.response, media_type=result.mimetype, headers={"X-Model-Version": model.version}
    )


def _mlflow_message(error: MlflowException) -> str:
    """MLflow's message plus the model's own reason (the last line of the trace, not the trace)."""
    message = error.message.split("\n")[0][:500]
    trace = (getattr(error, "json_kwargs", {}) or {}).get("stack_trace") or ""
    last = trace.strip().splitlines()[-1] if trace.strip() else ""
    return f"{message} ({last[:300]})" if last else message
