"""``skfashion serve``: a saved model behind HTTP and a web page.

A thin shell over :func:`skfashion.serve.run`: the options are the fields
of :class:`~skfashion.serve.ServeSettings` (:func:`~skfashion.serve.options`
derives them, with their units and defaults), the model is loaded by
:func:`~skfashion.io.load_predictor`, and what happens is said.
"""

import re
import sys

from skfashion import io, serve

from ._common import add_model_argument

HELP = "serve a saved model: a web page, /predict, the v2 inference protocol"
#: the settings that are not limits, shown before the "limits" group
GENERAL = ("name", "token", "allowed_hosts", "host", "port", "grpc_port", "engine")


def add_parser(sub):
    p = sub.add_parser("serve", help=HELP, description=HELP + ".")
    add_model_argument(p)
    limits = p.add_argument_group(
        "limits", "what one request or connection may cost (see the Serving page)"
    )
    for option in serve.options():
        group = p if option.name in GENERAL + ("access_log",) else limits
        group.add_argument(option.flag, dest=option.name, **option.kwargs)
    p.set_defaults(run=run)
    return p


def _say(message):
    print(f"skfashion serve: {message}", flush=True)


def _error(message):
    print(f"skfashion serve: error: {message}", file=sys.stderr, flush=True)
    return 2


def _as_options(message):
    """A message of the library's, the settings named as options."""
    for option in sorted(serve.options(), key=lambda o: -len(o.name)):
        message = re.sub(rf"(?<![\w-]){option.name}(?![\w-])", option.flag, message)
    return message


def _on_start(settings):
    name, port, grpc = settings.name, settings.port, settings.grpc_port

    def said(url):
        if settings.engine == "kserve":
            _say(
                "KServe's ModelServer listens on every interface: v2 REST on port "
                f"{port} (/v2/models/{name}/infer), gRPC on port {grpc}; Ctrl-C "
                "or SIGTERM stops"
            )
        else:
            _say(
                f"listening on {url} (the page: {url}/, v2: {url}/v2/models/{name}, "
                f"metrics: {url}/metrics); Ctrl-C stops"
            )

    return said


def run(args, parser):
    try:
        settings = serve.settings_from_options(args)
        try:
            settings.check_engine()
        except ValueError as exc:  # the library names the settings
            raise ValueError(_as_options(str(exc))) from None
        predictor = io.load_predictor(
            args.model,
            allow_pickle=args.allow_pickle,
            warn=lambda m: _say(f"warning: {m}"),
            spinning=False,
        )
    except ImportError as exc:
        return _error(str(exc))
    except (ValueError, TypeError) as exc:
        return _error(str(exc))
    _say(f"serving {args.model} as {settings.name!r}: {predictor.describe()}")
    try:
        serve.run(
            predictor,
            settings,
            on_start=_on_start(settings),
            warn=lambda m: _say(f"warning: {m}"),
        )
    except OSError as exc:
        return _error(str(exc))
    _say("stopped")
    return 0
