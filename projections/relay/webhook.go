package relay

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/zhaoshang/zhaoshang/domain"
	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Notification kinds. exclusivity_conflict is the supervision alert of
// DOMAIN.md that an event opens by itself; the others open work for the
// centre (a supervision order to follow up), for the discipline commission
// (a tolerance case) or may lead to one (a termination).
const (
	KindExclusivityConflict    = "exclusivity_conflict"
	KindSupervisionOrderIssued = "supervision_order_issued"
	KindProjectTerminated      = "project_terminated"
	KindToleranceRequested     = "tolerance_requested"
)

// Webhook headers besides Content-Type.
const (
	HeaderSignature  = "X-Zhaoshang-Signature"
	HeaderEventID    = "X-Zhaoshang-Event-Id"
	HeaderEventType  = "X-Zhaoshang-Event-Type"
	HeaderKind       = "X-Zhaoshang-Kind"
	HeaderIdempotent = "Idempotency-Key"
	HeaderCorrelate  = "X-Correlation-Id"
)

// Notification is the JSON body POSTed to the webhook: what happened in a
// sentence (English and Chinese), who and what it is about, and the event's
// envelope fields and data, so a receiver can act without calling back.
type Notification struct {
	Kind          string           `json:"kind"`
	Summary       string           `json:"summary"`
	SummaryZH     string           `json:"summary_zh"`
	Unit          string           `json:"unit,omitempty"`
	ProjectID     string           `json:"project_id,omitempty"`
	EventID       string           `json:"event_id"`
	EventType     string           `json:"event_type"`
	Stream        string           `json:"stream"`
	Version       uint64           `json:"version"`
	Position      string           `json:"position"`
	OccurredAt    time.Time        `json:"occurred_at"`
	RecordedAt    time.Time        `json:"recorded_at"`
	Actor         eventstore.Actor `json:"actor"`
	CorrelationID string           `json:"correlation_id,omitempty"`
	Data          json.RawMessage  `json:"data"`
}

// NotificationOf builds the notification of e. Event types without a kind
// of their own (any type added to Config.WebhookEvents) get their type name
// as kind and a generic summary.
func NotificationOf(e eventstore.Event) (Notification, error) {
	n := Notification{
		Kind:          e.Type,
		Summary:       fmt.Sprintf("%s recorded on %s", e.Type, e.Stream),
		SummaryZH:     fmt.Sprintf("%s 已记录（%s）", e.Type, e.Stream),
		EventID:       e.ID.String(),
		EventType:     e.Type,
		Stream:        e.Stream,
		Version:       e.Version,
		Position:      e.Position.String(),
		OccurredAt:    e.OccurredAt,
		RecordedAt:    e.RecordedAt,
		Actor:         e.Actor,
		CorrelationID: e.CorrelationID,
		Data:          e.Data,
	}
	decode := func(v any) error {
		if err := json.Unmarshal(e.Data, v); err != nil {
			return fmt.Errorf("relay: event %s: decode %s: %w", e.ID, e.Type, err)
		}
		return nil
	}
	switch e.Type {
	case domain.TypeReportRejected:
		var d domain.ReportRejected
		if err := decode(&d); err != nil {
			return Notification{}, err
		}
		n.Kind = KindExclusivityConflict
		n.Unit, n.ProjectID = string(d.Unit), d.HolderProject
		until := d.Until.UTC().Format(time.RFC3339)
		n.Summary = fmt.Sprintf("Exclusivity conflict: %s's report of %s (%s, %s) was rejected; %s holds first negotiation (project %s) until %s.",
			d.Unit, d.Investor.Name, d.IndustryChain, d.PlannedInvestment, d.HolderUnit, d.HolderProject, until)
		n.SummaryZH = fmt.Sprintf("首报首谈冲突：%s报送的%s项目（%s，%s）被拒绝，%s享有首谈权（项目 %s）至 %s。",
			d.Unit, d.Investor.Name, d.IndustryChain, d.PlannedInvestment, d.HolderUnit, d.HolderProject, until)
	case domain.TypeSupervisionOrderIssued:
		var d domain.SupervisionOrderIssued
		if err := decode(&d); err != nil {
			return Notification{}, err
		}
		n.Kind = KindSupervisionOrderIssued
		n.Unit, n.ProjectID = string(d.ResponsibleUnit), d.ProjectID
		n.Summary = fmt.Sprintf("Supervision order %s issued to %s: %s; deadline %s; lead %s.",
			d.OrderID, d.ResponsibleUnit, d.Matter, d.Deadline, d.LeadLeader)
		n.SummaryZH = fmt.Sprintf("督办事项 %s 已下达%s：%s；办结时间 %s；牵头领导 %s。",
			d.OrderID, d.ResponsibleUnit, d.Matter, d.Deadline, d.LeadLeader)
	case domain.TypeProjectTerminated:
		var d domain.ProjectTerminated
		if err := decode(&d); err != nil {
			return Notification{}, err
		}
		n.Kind = KindProjectTerminated
		n.ProjectID = d.ProjectID
		n.Summary = fmt.Sprintf("Project %s terminated from stage %s (%s, cause %s).", d.ProjectID, d.StageBefore, d.Kind, d.Cause)
		n.SummaryZH = fmt.Sprintf("项目 %s 在%s阶段终止（%s，原因 %s）。", d.ProjectID, d.StageBefore, d.Kind, d.Cause)
		if d.Kind.ToleranceRelevant() {
			n.Summary += " A tolerance review may be requested."
			n.SummaryZH += "可申请容错免责审查。"
		}
	case domain.TypeToleranceRequested:
		var d domain.ToleranceRequested
		if err := decode(&d); err != nil {
			return Notification{}, err
		}
		n.Kind = KindToleranceRequested
		n.Unit, n.ProjectID = string(d.Unit), d.ProjectID
		n.Summary = fmt.Sprintf("Tolerance review %s requested by %s for project %s: %s", d.CaseID, d.Unit, d.ProjectID, d.Grounds)
		n.SummaryZH = fmt.Sprintf("%s就项目 %s 申请容错免责（案件 %s）：%s", d.Unit, d.ProjectID, d.CaseID, d.Grounds)
	}
	return n, nil
}

// WebhookError is the error of a POST the webhook answered with a status
// other than 2xx.
type WebhookError struct {
	Status int
	// Body is the start of the answer, for the log and the poison queue.
	Body string
}

func (e *WebhookError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("relay: webhook answered %d", e.Status)
	}
	return fmt.Sprintf("relay: webhook answered %d: %s", e.Status, e.Body)
}

// Webhook is the router's webhook handler: it POSTs a Notification for each
// event of a configured type and fails (so that the router retries and then
// poisons the message) when the endpoint cannot be reached or answers
// anything but 2xx.
type Webhook struct {
	url    string
	secret []byte
	events map[string]bool
	client *http.Client
}

// NewWebhook returns the handler for cfg (WebhookURL, WebhookSecret,
// WebhookEvents); client should carry the timeout (Config.WebhookTimeout).
func NewWebhook(cfg Config, client *http.Client) *Webhook {
	cfg = cfg.WithDefaults()
	if client == nil {
		client = &http.Client{Timeout: cfg.WebhookTimeout}
	}
	// A redirect is answered, not followed: Go follows a 301/302/303 as a
	// GET without the body, whose 2xx would count the notification as
	// delivered. The 3xx is then a failure like any status outside 2xx.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client = &c
	events := make(map[string]bool, len(cfg.WebhookEvents))
	for _, t := range cfg.WebhookEvents {
		events[t] = true
	}
	w := &Webhook{url: cfg.WebhookURL, events: events, client: client}
	if cfg.WebhookSecret != "" {
		w.secret = []byte(cfg.WebhookSecret)
	}
	return w
}

// Handle is a watermill consumer handler.
func (w *Webhook) Handle(msg *message.Message) error {
	if !w.events[msg.Metadata.Get(MetaType)] {
		return nil
	}
	e, err := EventOf(msg)
	if err != nil {
		return err
	}
	n, err := NotificationOf(e)
	if err != nil {
		return err
	}
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(msg.Context(), http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "zhaoshang-relay")
	req.Header.Set(HeaderEventID, n.EventID)
	req.Header.Set(HeaderEventType, n.EventType)
	req.Header.Set(HeaderKind, n.Kind)
	// Delivery is at least once: the receiver deduplicates by this key.
	req.Header.Set(HeaderIdempotent, n.EventID)
	if id := middleware.MessageCorrelationID(msg); id != "" {
		req.Header.Set(HeaderCorrelate, id)
	}
	if w.secret != nil {
		mac := hmac.New(sha256.New, w.secret)
		mac.Write(body)
		req.Header.Set(HeaderSignature, "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("relay: webhook: %w", err)
	}
	defer resp.Body.Close()
	// Reading a bounded part of the body lets the connection be reused and
	// keeps the reason of a refusal for the log.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &WebhookError{Status: resp.StatusCode, Body: strings.TrimSpace(string(answer))}
	}
	return nil
}

// VerifySignature reports whether signature (the X-Zhaoshang-Signature
// header) is the HMAC-SHA256 of body under secret: what a receiver calls
// before trusting a notification.
func VerifySignature(secret, body []byte, signature string) bool {
	hexSum, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
