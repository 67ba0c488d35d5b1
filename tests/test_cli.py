from cli.main import main


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "leadsync" in capsys.readouterr().out


def test_unknown_command_is_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err
