// Package capture reads frames from capture files and writes them back.
//
// Open reads pcap and pcapng files, gzip-compressed or not, and standard
// input ("-"), and merges several inputs by capture time into one Source.
// It is the first stage of the pipeline: capture -> decode -> correlate ->
// store. Only this package and decode use gopacket; Frame holds standard
// types only.
//
// Buffer ownership: a Frame's Data aliases the Source's read buffer and is
// valid until the next call to Next; a stage that keeps the bytes copies
// them. A Source is not safe for concurrent use, except that Progress may be
// called from another goroutine (for a progress bar).
//
// Example:
//
//	src, err := capture.Open([]string{"a.pcap", "b.pcapng.gz"}, capture.Options{})
//	if err != nil {
//		return err // e.g. "open a.pcap: no such file or directory"
//	}
//	defer src.Close()
//	var f capture.Frame
//	for {
//		if err := src.Next(&f); err == io.EOF {
//			break
//		} else if err != nil {
//			return err
//		}
//		fmt.Println(f.File, f.Number, f.Time, len(f.Data))
//	}
//	for _, w := range src.Warnings() {
//		fmt.Fprintln(os.Stderr, "warning:", w) // e.g. "b.pcapng.gz: cut short after frame 1234: ..."
//	}
//
// Writer exports frames again, as pcap or pcapng (see FormatFor).
package capture
