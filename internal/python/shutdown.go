package python

// Shutdown stages of CPython's Py_FinalizeEx (Python/pylifecycle.c, 3.8 to 3.13), in
// the order it runs them:
//
//	wait_for_thread_shutdown   threading._shutdown joins the non-daemon threads
//	_PyAtExit_Call             atexit callbacks (atexit_callfuncs; call_py_exitfuncs
//	                           before 3.10). Both run BEFORE the runtime's finalizing
//	                           field is set (_PyRuntimeState_SetFinalizing), so a crash
//	                           here reads "finalizing: no".
//	finalize_modules           module teardown (_PyImport_Cleanup before 3.10): module
//	                           globals are cleared, their __del__ methods run, and
//	                           garbage collections run between the steps
//	finalize_interp_clear      the final collection (_PyGC_CollectNoFail) and the
//	                           interpreter's state is freed
const (
	StageThreadShutdown = "thread_shutdown"
	StageAtexit         = "atexit"
	StageModuleTeardown = "module_teardown"
	StageFinalGC        = "final_gc"
	// StageFinalizing: the runtime's finalizing field is set, or Py_FinalizeEx is on the
	// stack, but no function of a known stage is.
	StageFinalizing = "finalizing"
)

// stageMarkers are the native functions that name a stage.
var stageMarkers = map[string]string{
	"wait_for_thread_shutdown": StageThreadShutdown,
	"_PyAtExit_Call":           StageAtexit,
	"atexit_callfuncs":         StageAtexit,
	"call_py_exitfuncs":        StageAtexit,
	"finalize_modules":         StageModuleTeardown,
	"_PyImport_Cleanup":        StageModuleTeardown,
	"PyImport_Cleanup":         StageModuleTeardown,
	"finalize_interp_clear":    StageFinalGC,
	"finalize_interp_delete":   StageFinalGC,
	"_PyGC_CollectNoFail":      StageFinalGC,
}

// finalizers are the functions that shut an interpreter down.
var finalizers = map[string]bool{"Py_FinalizeEx": true, "Py_Finalize": true, "Py_EndInterpreter": true}

// ShutdownStage names the shutdown stage a native stack (function names, innermost
// first) is in, and the functions that say so: the finalizer ("Py_FinalizeEx") and the
// stage's function closest to it ("finalize_modules"; a collection that module teardown
// runs is module teardown, not the final one). It returns "" when the stack shows no
// shutdown.
func ShutdownStage(functions []string) (stage, finalizer, marker string) {
	fin := -1
	for i := len(functions) - 1; i >= 0; i-- {
		if finalizers[functions[i]] {
			fin, finalizer = i, functions[i]
			break
		}
	}
	if fin < 0 {
		return "", "", ""
	}
	for i := fin - 1; i >= 0; i-- {
		if s, ok := stageMarkers[functions[i]]; ok {
			return s, finalizer, functions[i]
		}
	}
	return StageFinalizing, finalizer, ""
}

// StageBeforeFlag names the stage of a shutdown seen only as a finalizer on the stack
// (an interpreter without symbols for its static functions, as Debian's) while the
// runtime's finalizing flag is still unset: Py_FinalizeEx runs Python code then only to
// join non-daemon threads (threading._shutdown) or to call atexit callbacks. outermost
// is the function and file of the thread's outermost Python frame.
func StageBeforeFlag(function, file string) string {
	if function == "_shutdown" && (file == "threading.py" || len(file) > 13 && file[len(file)-13:] == "/threading.py") {
		return StageThreadShutdown
	}
	return StageAtexit
}
