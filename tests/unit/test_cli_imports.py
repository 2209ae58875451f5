"""The CLI's module stays light: prometheus_client must not be imported before a command sets the metrics directory."""
import subprocess
import sys

from service import import_cli, importer


def test_importing_the_cli_does_not_import_prometheus_client():
    probe = "import sys, service.cli; print('prometheus_client' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == "False"


def test_the_import_commands_default_batch_is_the_importers():
    assert import_cli.BATCH_EVENTS == importer.BATCH_EVENTS
