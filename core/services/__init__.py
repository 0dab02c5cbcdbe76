"""Services own the transaction: views and commands validate input, call one service, and
render or print its result."""
