"""Tools for RevOps admins: explain, history, preview, backtest, calibrate and HTML reports."""
