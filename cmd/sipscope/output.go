package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// checkOutput refuses an -o path that cannot be written, naming the
// problem: a folder, or a folder that does not exist. "-" is standard
// output.
func checkOutput(path string) error {
	if path == "-" {
		return nil
	}
	// Stat follows every link, the kernel's magic ones too (/dev/stdout
	// -> /proc/self/fd/1 -> pipe:[...]), which Readlink cannot.
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("-o %s is a folder: name a file in it, e.g. -o %s", path, filepath.Join(path, "call.html"))
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("-o %s: %w", path, pathErr(err))
	}
	// A new file, or a symlink to one.
	target, err := resolveOutput(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("-o %s: folder %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("-o %s: %w", path, pathErr(err))
	case !di.IsDir():
		return fmt.Errorf("-o %s: %s is not a folder", path, dir)
	}
	return nil
}

// resolveOutput follows symlinks at path to the file they name (which
// need not exist yet), so that writing replaces the target, not the link.
func resolveOutput(path string) (string, error) {
	for range 40 { // like the kernel's ELOOP limit
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("-o %s: %w", path, pathErr(err))
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("-o %s: too many levels of symbolic links", path)
}

// pathErr is err without the path a *fs.PathError repeats.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openOutput opens path for writing ("-" is standard output). finish(ok)
// flushes and closes it; a failed export leaves what was there before.
//
// A regular file (or a new one) is written to a temporary file in its
// folder and renamed over it when complete, so a reader never sees half
// an export and a failed one changes nothing; the file keeps the mode it
// had (a new one gets 0666 less the umask, as the shell would give it).
// Symlinks are followed: the target is replaced, the link stays. Anything
// else (a device such as /dev/stdout or /dev/full, a FIFO, a socket) is
// opened and written to as it is: renaming over it would replace it with
// a regular file.
func openOutput(path string, io *streams) (io.Writer, func(ok bool) error, error) {
	if path == "-" {
		bw := bufio.NewWriter(io.Out)
		return bw, func(bool) error {
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write standard output: %w", err)
			}
			return nil
		}, nil
	}
	if err := checkOutput(path); err != nil {
		return nil, nil, err
	}
	mode := newFileMode()
	var target string
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return openSpecial(path)
	case err == nil:
		mode = fi.Mode().Perm()
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return nil, nil, fmt.Errorf("-o %s: %w", path, pathErr(err))
		}
	default: // checkOutput found it absent: a new file, or a dangling link
		if target, err = resolveOutput(path); err != nil {
			return nil, nil, err
		}
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return nil, nil, fmt.Errorf("-o %s: cannot create a file in %s: %w", path, filepath.Dir(target), pathErr(err))
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	return bw, func(ok bool) error {
		if !ok {
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		err := bw.Flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), mode)
		}
		if err == nil {
			err = os.Rename(f.Name(), target)
		}
		if err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("write %s: %w", path, pathErr(err))
		}
		return nil
	}, nil
}

// openSpecial opens a device, FIFO or socket for writing as it is.
func openSpecial(path string) (io.Writer, func(ok bool) error, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("-o %s: %w", path, pathErr(err))
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	return bw, func(ok bool) error {
		var err error
		if ok {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, pathErr(err))
		}
		return nil
	}, nil
}
