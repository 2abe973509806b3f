package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sipscope": func() { os.Exit(run(os.Args[1:], systemStreams())) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script. They see
// $TESTDATA (the repository's testdata folder) and $CORPUS (../shared/corpus);
// scripts that need the corpus start with `[!corpus] skip`; [tshark]
// says whether tshark is installed.
func TestScripts(t *testing.T) {
	testdata, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(e *testscript.Env) error {
			e.Setenv("TESTDATA", testdata)
			e.Setenv("CORPUS", corpus)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "corpus":
				_, err := os.Stat(filepath.Join(corpus, "sngrep", "aaa.pcap"))
				return err == nil, nil
			case "tshark":
				_, err := exec.LookPath("tshark")
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}
