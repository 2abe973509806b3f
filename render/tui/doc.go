// Package tui is sipscope's interactive terminal UI (sngrep's workflow): a
// call list that fills while a capture loads, the call flow ladder of the
// selected dialog with the raw message of the selected arrow, and the whole
// message. It is the only package that imports tcell.
//
// The UI reads dialogs through Source, which it declares itself (the store
// satisfies it through a small adapter in cmd), one page at a time: it
// never holds the whole list, so a store of 100,000 dialogs scrolls, sorts
// and filters at the speed of one screenful. Whoever feeds the store (a
// file being read, later a live capture) reports through App.Progress and
// the UI re-queries.
//
// One goroutine, the one running App.Run, owns the screen; queries run in
// other goroutines and post their results back to it. Run restores the
// terminal (Fini) before it returns, also on a panic, which it turns into
// an error.
//
//	app := tui.New(src, tui.Options{NoColor: os.Getenv("NO_COLOR") != ""})
//	go feed(func(p tui.Progress) { app.Progress(p) })
//	err := app.Run(ctx, screen)
//
// The screen logic lives in plain structs (listModel, flowView, textView,
// lineEdit) that tests drive without a terminal.
package tui
