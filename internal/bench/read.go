package bench

import (
	"context"
	"net/http"
	"strconv"

	"github.com/zhaoshang/zhaoshang/api"
)

// FigureHealthz is the read path's baseline: an HTTP exchange through the
// server's middleware that asks the views nothing.
const FigureHealthz = "GET /healthz"

// readContenders are the dashboard's common reads, each a figure named by
// its request, against views holding the generated log; year is its last
// (still open, so computed live rather than frozen) year.
func readContenders(c *client, token string, year int) []*contender {
	y := strconv.Itoa(year)
	get := func(path, tok string) *contender {
		return &contender{name: "GET " + path, op: func(ctx context.Context, _ int, _ int64) error {
			return c.do(ctx, http.MethodGet, path, tok, nil, http.StatusOK)
		}}
	}
	return []*contender{
		get("/healthz", ""),
		get(api.BasePath+"/projects?limit=50", token),
		get(api.BasePath+"/rankings?period="+y+"&kind=county", token),
		get(api.BasePath+"/supervision/alerts", token),
		get(api.BasePath+"/assessments/"+y, token),
	}
}
