// Command ultramarket is the UltraMarket gateway: `serve` (the default),
// `migrate up|down|status`, `create-admin --email E --password P` and
// `reconcile`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/cmd/ultramarket/app"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	cfg, err := config.Load(os.LookupEnv)
	if err == nil && cmd == "serve" {
		err = cfg.CheckServe()
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	// Every line logged with a request's context carries its request id.
	logger := slog.New(httpapi.NewLogHandler(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo})))
	redis.UseLogger(logger)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "serve":
		err = app.Serve(ctx, cfg, app.Options{Logger: logger, Version: version, Stdout: stdout})
	case "migrate":
		err = migrate(ctx, cfg, args, stdout)
	case "create-admin":
		err = createAdmin(ctx, cfg, args, stdout)
	case "reconcile":
		if len(args) != 0 {
			err = usageError{"usage: ultramarket reconcile"}
			break
		}
		err = app.Reconcile(ctx, cfg, stdout, logger)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n", cmd)
		usage(stderr)
		return 2
	}
	if err != nil {
		var usageErr usageError
		if errors.As(err, &usageErr) {
			fmt.Fprintln(stderr, err)
			return 2
		}
		logger.Error(cmd+" failed", "err", err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: ultramarket [command]
  serve                                   serve the public and ops listeners (default)
  migrate up|down|status                  apply, roll back one, or list migrations
  create-admin --email E --password P     create a super_admin, or promote an existing account
                                          (the password may come from ULTRAMARKET_ADMIN_PASSWORD)
  reconcile                               one reconciliation pass now; prints, per issue kind,
                                          the issues it opened and those open in all
configuration comes from environment variables; see README.md
`)
}

func migrate(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return usageError{"usage: ultramarket migrate up|down|status"}
	}
	return app.Migrate(ctx, cfg, args[0], out)
}

func createAdmin(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "email of the super_admin")
	password := fs.String("password", "", "password (or ULTRAMARKET_ADMIN_PASSWORD)")
	name := fs.String("name", "Administrator", "full name")
	if err := fs.Parse(args); err != nil {
		return usageError{"usage: ultramarket create-admin --email E --password P [--name N]: " + err.Error()}
	}
	if *password == "" {
		*password = os.Getenv("ULTRAMARKET_ADMIN_PASSWORD")
	}
	if *email == "" || *password == "" {
		return usageError{"usage: ultramarket create-admin --email E --password P [--name N] (or set ULTRAMARKET_ADMIN_PASSWORD)"}
	}
	res, err := app.CreateAdmin(ctx, cfg, *email, *password, *name)
	if err != nil {
		return err
	}
	if res.Created {
		fmt.Fprintf(out, "created super_admin %s (%s)\n", res.User.Email(), res.User.ID())
	} else {
		fmt.Fprintf(out, "promoted %s (%s) to super_admin; its password is unchanged\n", res.User.Email(), res.User.ID())
	}
	return nil
}
