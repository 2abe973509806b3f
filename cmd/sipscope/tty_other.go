//go:build !linux

package main

func ttyWidth() int { return 0 }
