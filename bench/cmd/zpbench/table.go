package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// table is a text table printed with aligned columns: the first `left` columns are
// left-aligned (labels), the others right-aligned (numbers).
type table struct {
	header []string
	left   int
	rows   [][]string // a nil row prints as a blank separator line
}

// newTable returns a table with the given column names, the first left of them labels.
func newTable(left int, header ...string) *table {
	return &table{header: header, left: left}
}

// add appends one row; missing cells print empty.
func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// sep appends a blank separator line.
func (t *table) sep() { t.rows = append(t.rows, nil) }

// print writes the table, indented by two spaces.
func (t *table) print() {
	width := make([]int, len(t.header))
	for i, h := range t.header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	line := func(cells []string) {
		var sb strings.Builder
		sb.WriteString("  ")
		for i := range t.header {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i < t.left {
				sb.WriteString(c + pad)
			} else {
				sb.WriteString(pad + c)
			}
			if i < len(t.header)-1 {
				sb.WriteString("  ")
			}
		}
		fmt.Println(strings.TrimRight(sb.String(), " "))
	}
	line(t.header)
	total := 0
	for _, w := range width {
		total += w + 2
	}
	fmt.Println("  " + strings.Repeat("-", total-2))
	for _, r := range t.rows {
		if r == nil {
			fmt.Println()
			continue
		}
		line(r)
	}
}

// section prints a numbered section heading.
func section(n int, title string) {
	fmt.Printf("\n%d. %s\n%s\n", n, title, strings.Repeat("=", len(title)+3))
}

// note prints an indented explanatory line under a table.
func note(format string, args ...any) {
	fmt.Printf("  "+format+"\n", args...)
}
