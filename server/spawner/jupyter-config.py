"""Lectern's Jupyter config for students' servers: the hub writes it into its Jupyter config folder
(every server's JUPYTER_CONFIG_DIR) as jupyter_server_config.py and jupyter_notebook_config.py.

A kernel's state as the server lists it (`execution_state` in GET /api/kernels) is what the hub's
idle culler goes by: a busy kernel keeps its server. Jupyter Server before 2.0 and Notebook 6 set
that state from every status message a kernel sends, including those around a request on the
control channel (a page reconnecting asks for the kernel's info there, a debugger talks there),
which a kernel answers at once, in the middle of a cell. A kernel running a student's long cell was
then listed idle until the cell ended, and the culler stopped her server under it. Jupyter Server 2
leaves the state alone for requests that run no code; this does the same for the older servers.
"""

import sys

# Requests a kernel answers without running the student's code: their status messages say nothing
# about whether a cell is running.
REQUESTS_RUNNING_NO_CODE = {
    "kernel_info_request",
    "comm_info_request",
    "interrupt_request",
    "shutdown_request",
    "debug_request",
    "usage_request",
    "history_request",
    "complete_request",
    "inspect_request",
    "is_complete_request",
}

# The kernel managers that watch kernels this way, by the module the running app imported.
OLD_KERNEL_MANAGERS = ["jupyter_server.services.kernels.kernelmanager", "notebook.services.kernels.kernelmanager"]


def track_code_only(module):
    """Replaces `module`'s MappingKernelManager.start_watching_activity with one that takes the
    kernel's state only from status messages answering requests that may run code."""
    manager = module.MappingKernelManager
    if hasattr(manager, "untracked_message_types") or getattr(manager, "_lectern_tracks_code_only", False):
        return
    from jupyter_client.session import Session

    start_watching = manager.start_watching_activity

    def start_watching_activity(self, kernel_id):
        start_watching(self, kernel_id)
        kernel = self._kernels[kernel_id]
        session = Session(config=kernel.session.config, key=kernel.session.key)

        def record_activity(message_parts):
            self.last_kernel_activity = kernel.last_activity = module.utcnow()
            _, parts = session.feed_identities(message_parts)
            if session.deserialize(parts, content=False)["header"]["msg_type"] != "status":
                return
            message = session.deserialize(parts)
            state = message["content"]["execution_state"]
            if message["parent_header"].get("msg_type") not in REQUESTS_RUNNING_NO_CODE:
                kernel.execution_state = state
            elif kernel.execution_state == "starting" and state != "starting":
                # The kernel's first answer, to the server's own info request: it has started.
                kernel.execution_state = "idle"

        kernel._activity_stream.on_recv(record_activity)

    manager.start_watching_activity = start_watching_activity
    manager._lectern_tracks_code_only = True


for name in OLD_KERNEL_MANAGERS:
    if name in sys.modules:
        try:
            track_code_only(sys.modules[name])
        except Exception as error:  # noqa: BLE001 - the server must start regardless; the log says why
            print(f"Lectern: kernels' busy state not corrected ({type(error).__name__}: {error})", file=sys.stderr)
