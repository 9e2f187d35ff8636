"""Background work of `srekit serve`, each job a thread of its own: the evaluator (under the
store's leader lock, so one replica evaluates) and the deployment recorder."""
