"""The load runs' CPU split counts a process that ended during the window (a Locust run that is over)."""

import subprocess
import sys
import time

from loadtest.stack_sampler import CpuByPart

BURN_HALF_A_SECOND = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end:\n    pass\n"


def test_a_process_that_ended_during_the_window_keeps_its_cpu():
    emulator = subprocess.Popen(["sleep", "30"])  # stands in for MiniStack: no children, no CPU
    try:
        cpu = CpuByPart(emulator.pid)
        # The argument puts "locust" in its command line, which is how the sampler recognises Locust.
        load = subprocess.Popen([sys.executable, "-c", BURN_HALF_A_SECOND, "locust"])
        while load.poll() is None:
            cpu.read()
            time.sleep(0.05)
        cpu.read()
        seconds = cpu.seconds()
        assert seconds["locust"] >= 0.3, seconds
        assert seconds["emulator"] < 0.1 and seconds["functions"] == 0, seconds
    finally:
        emulator.kill()
        emulator.wait()
