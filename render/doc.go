// Package render draws call flows. Layout turns the messages of one or
// more dialogs (linked legs) into a Ladder, a plain value: columns
// (endpoints), arrows in capture order with labels, times and deltas, a
// colour per Call-ID. The writers only draw a Ladder: Text (terminal,
// Unicode or ASCII, fitted to a width, optional ANSI colour), Messages
// (every message raw, for a ticket), SVG, HTML and HTMLMulti (one
// self-contained page that works offline; HTMLPage writes a page of many
// calls one call at a time), Mermaid, PlantUML and JSON.
//
// render imports the types of decode and correlate, never store or cmd.
// Nothing here keeps a reference to its inputs after returning except the
// Ladder, which points at the messages it was given; none of it is safe
// for concurrent mutation, but a Ladder may be drawn from several
// goroutines at once.
//
// Example:
//
//	aliases, err := render.LoadAliases("hosts.txt") // "10.0.0.1 pbx" lines
//	if err != nil {
//		return err
//	}
//	l := render.Layout([]*correlate.Dialog{d}, msgs, render.LayoutOptions{Aliases: aliases})
//	if err := render.Text(os.Stdout, l, render.TextOptions{Width: 120, Color: isTerminal}); err != nil {
//		return err
//	}
//	f, _ := os.Create("call.html")
//	defer f.Close()
//	return render.HTML(f, l, render.HTMLOptions{})
package render
