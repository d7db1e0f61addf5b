package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/zhaoshang/zhaoshang/api"
)

func runToken(_ context.Context, args []string, out, errOut io.Writer) error {
	fs := newFlags("token", "token --role ROLE [--unit CODE] [--subject NAME] [--ttl 24h] [--data DIR]", errOut)
	role := fs.String("role", "", "role: "+fmt.Sprint(api.Roles()))
	unit := fs.String("unit", "", "unit code (required for unit_staff)")
	subject := fs.String("subject", "", "subject (who the token is for; default the role)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	data := fs.String("data", "./data", "data directory holding the server's secret file")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *role == "" {
		fmt.Fprintln(errOut, "--role is required")
		fs.Usage()
		return errUsage
	}
	if *subject == "" {
		*subject = *role
	}
	secret, err := api.LoadOrCreateSecret(*data)
	if err != nil {
		return err
	}
	tok, err := api.MintToken(secret, *subject, *role, *unit, *ttl, time.Now())
	if err != nil {
		// Only the arguments can be wrong here: a role, unit or ttl.
		return usageErr("%v", err)
	}
	fmt.Fprintln(out, tok)
	return nil
}
