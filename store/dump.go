package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// Dump writes the schema and every row of every table of s in a canonical
// text form, so that two databases can be compared line by line: the
// schema objects (without their root pages) by name, then each table's
// rows in rowid order (by every column for WITHOUT ROWID tables). Blobs are
// written as their length and SHA-256, texts quoted (strconv.Quote). What
// differs between two imports of the same captures and is not data is left
// out: when migrations ran and files were imported, and the folders of the
// files (their base names stay). It is for tests and debugging; the output
// is not a stable format.
func (s *Store) Dump(ctx context.Context, w io.Writer) error {
	rows, err := s.db.QueryContext(ctx, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema
		WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name`)
	if err != nil {
		return fmt.Errorf("store: dump: %w", err)
	}
	var tables []string
	for rows.Next() {
		var typ, name, tbl, q string
		if err := rows.Scan(&typ, &name, &tbl, &q); err != nil {
			rows.Close()
			return fmt.Errorf("store: dump: %w", err)
		}
		fmt.Fprintf(w, "schema %s %s %s %s\n", typ, name, tbl, strconv.Quote(q))
		if typ == "table" && !strings.HasPrefix(name, "sqlite_") {
			tables = append(tables, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: dump: %w", err)
	}
	for _, t := range tables {
		if err := s.dumpTable(ctx, w, t); err != nil {
			return fmt.Errorf("store: dump %s: %w", t, err)
		}
	}
	return nil
}

// dumpSkip are the columns Dump leaves out (see Dump), by table.
var dumpSkip = map[string]map[string]bool{
	"schema_migrations": {"applied": true},
	"files":             {"imported": true},
}

func (s *Store) dumpTable(ctx context.Context, w io.Writer, table string) error {
	var withoutRowid int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_index_list(?) WHERE origin = 'pk'`, table).Scan(&withoutRowid); err != nil {
		return err
	}
	order := "rowid"
	if withoutRowid > 0 {
		var cols []string
		crows, err := s.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			return err
		}
		for crows.Next() {
			var c string
			if err := crows.Scan(&c); err != nil {
				crows.Close()
				return err
			}
			cols = append(cols, `"`+c+`"`)
		}
		crows.Close()
		// A table with a primary key that is not an INTEGER one may
		// still have a rowid; ordering by every column suits both.
		order = strings.Join(cols, ", ")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT * FROM "`+table+`" ORDER BY `+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var b strings.Builder
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		b.Reset()
		b.WriteString(table)
		for i, v := range vals {
			if dumpSkip[table][names[i]] {
				continue
			}
			b.WriteString(" ")
			b.WriteString(names[i])
			b.WriteString("=")
			if table == "files" && names[i] == "path" {
				if p, ok := v.(string); ok {
					v = filepath.Base(p)
				}
			}
			switch v := v.(type) {
			case nil:
				b.WriteString("NULL")
			case int64:
				b.WriteString(strconv.FormatInt(v, 10))
			case float64:
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			case string:
				b.WriteString(strconv.Quote(v))
			case []byte:
				fmt.Fprintf(&b, "blob(%d,%x)", len(v), sha256.Sum256(v))
			default:
				fmt.Fprintf(&b, "%T(%v)", v, v)
			}
		}
		b.WriteString("\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return rows.Err()
}
