"""The nightly zoo run: a deployment of `convert_zoo` on a cron schedule, served by `irforge serve`.

`serve_nightly` registers the deployment "irforge-zoo/<name>" and then blocks, running its
scheduled runs and any run submitted with `submit_run` (e.g. by `irforge zoo --submit`). It needs
a real Prefect server: Prefect's temporary server has no scheduler. Teams that run
`prefect worker start --pool irforge` deploy flows/prefect.yaml instead.

Import this module only after `flows.server.use_api_url`: Prefect binds its API URL on import.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from flows.server import ServerError, resolve_api_url, use_api_url

FLOW_NAME = "irforge-zoo"
DEFAULT_NAME = "nightly"
DEFAULT_CRON = "0 2 * * *"
DEPLOYMENT = f"{FLOW_NAME}/{DEFAULT_NAME}"


def check_cron(cron: str) -> str:
    """The expression as Prefect's CronSchedule accepts it; ValueError with Prefect's reason if not."""
    from prefect.client.schemas.schedules import CronSchedule

    try:
        return CronSchedule(cron=cron).cron
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        reasons = getattr(error, "errors", lambda: [])()
        detail = reasons[0]["msg"].removeprefix("Value error, ") if reasons else str(error)
        raise ValueError(f"--cron {cron!r}: {detail} (five fields: minute hour day-of-month month day-of-week)") from None


def nightly_parameters(zoo_dir: str | Path, out_dir: str | Path, **flow_params: Any) -> dict[str, Any]:
    """The deployment's parameters: absolute paths (runs start in other working directories) and
    only the flow parameters that are set, so the flow's defaults apply to the rest."""
    parameters = {"zoo_dir": str(Path(zoo_dir).resolve()), "out_dir": str(Path(out_dir).resolve())}
    parameters.update({key: value for key, value in flow_params.items() if value is not None})
    return parameters


def register_nightly(
    zoo_dir: str | Path, out_dir: str | Path, cron: str = DEFAULT_CRON, name: str = DEFAULT_NAME, **flow_params: Any
) -> UUID:
    """Create or update the deployment FLOW_NAME/<name>; returns its id."""
    return _deployment(zoo_dir, out_dir, cron, name, flow_params).apply()


def serve_nightly(
    zoo_dir: str | Path,
    out_dir: str | Path,
    cron: str = DEFAULT_CRON,
    name: str = DEFAULT_NAME,
    announce: Callable[[UUID], None] | None = None,
    **flow_params: Any,
) -> None:
    """Register the deployment and serve it until interrupted (SIGINT or SIGTERM). `announce`
    receives the deployment's id once it is registered, before serving starts. On shutdown Prefect
    pauses the schedule, so no runs pile up while nothing serves them; serving again resumes it."""
    from prefect import serve

    deployment = _deployment(zoo_dir, out_dir, cron, name, flow_params)
    if announce is not None:
        announce(deployment.apply())
    serve(deployment, print_starting_message=False)


def submit_run(name: str = DEPLOYMENT, parameters: dict[str, Any] | None = None) -> UUID:
    """Ask the server for a run of the deployment `name` now (parameters override the
    deployment's); returns the flow run's id without waiting. The process serving the deployment
    (`irforge serve`, or a worker of its pool) executes it.

    Raises ServerError when no real server is configured or running (a temporary server would
    forget the run on exit) or the deployment does not exist."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    url, _ = resolve_api_url()
    if url is None:
        raise ServerError("no Prefect server to submit to: set PREFECT_API_URL, or start one with `irforge server start`")
    use_api_url(url)
    try:
        flow_run = run_deployment(name, parameters=parameters or {}, timeout=0)
    except ObjectNotFound:
        raise ServerError(f"no deployment {name!r} on {url}; register it with `irforge serve`") from None
    return flow_run.id


def deployment_is_served(name: str = DEPLOYMENT) -> bool | None:
    """Whether a process polls for the deployment's runs (Prefect's READY status); None when the
    deployment does not exist. Call after `use_api_url`."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(name)
        except ObjectNotFound:
            return None
    return str(getattr(deployment.status, "value", deployment.status)).upper() == "READY"


def _deployment(zoo_dir: str | Path, out_dir: str | Path, cron: str, name: str, flow_params: dict[str, Any]):
    from prefect.types.entrypoint import EntrypointType

    from flows.zoo import convert_zoo

    return convert_zoo.to_deployment(
        name=name,
        cron=check_cron(cron),
        parameters=nightly_parameters(zoo_dir, out_dir, **flow_params),
        description=f"irforge zoo on a schedule ({cron})",
        # "flows.zoo.convert_zoo", not a file path relative to wherever `irforge serve` started
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
