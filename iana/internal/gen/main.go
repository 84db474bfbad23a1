// Command gen writes iana/tables_gen.go from the CSVs in iana/csv.
// Run it through `go generate ./iana/` (the working directory is then iana/).
package main

import (
	"log"
	"os"

	"github.com/tlsinspect/tlsinspect/iana/internal/ianagen"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("iana/internal/gen: ")
	src, err := ianagen.Generate(os.DirFS("csv"))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("tables_gen.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
