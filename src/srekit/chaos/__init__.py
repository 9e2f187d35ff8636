"""srekit's probes and actions for chaos experiments, importable by srekit's runner and by
Chaos Toolkit itself (`provider: {type: python, module: srekit.chaos.probes, func: ...}`):

- `srekit.chaos.probes`: an SLO's burn rate over a window, its remaining error budget, read
  from the SLO's own source as `srekit status` reads it;
- `srekit.chaos.actions`: CPU and memory hogs that stop by themselves when their time is
  over (a crashed run cannot leave them running), and `stop_hogs` to stop them sooner.

Not `srekit.core.chaos` (the model), `srekit.flows.chaos` (the runner) or `srekit.cli.chaos`
(the command): this package is what an experiment file names.
"""
