package analytics

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

const (
	// DefaultTZ is the zone periods are bucketed in when none is asked for.
	DefaultTZ = "Asia/Tashkent"
	// DefaultDays is the span of the default range, today included.
	DefaultDays = 30
	// MaxPoints bounds the periods one answer may hold, so a range of
	// centuries by day cannot make the database generate millions of rows.
	MaxPoints = 5000

	dateLayout = "2006-01-02"
)

// Sales is the revenue series.
type Sales struct {
	analytics ports.Analytics
	clock     ports.Clock
}

// NewSales wires the use case.
func NewSales(analytics ports.Analytics, clock ports.Clock) *Sales {
	return &Sales{analytics: analytics, clock: clock}
}

// SalesInput is the caller and the raw query parameters ("" = not given).
type SalesInput struct {
	Actor    user.Actor
	From     string
	To       string
	Interval string
	TZ       string
}

// SalesReport is the series and the question it answers: [From, To) cut
// into Interval periods in Location.
type SalesReport struct {
	From, To time.Time
	Interval ports.Interval
	Location *time.Location
	// Points come in time order, one per period, empty periods included
	// with zeros; PeriodStart is the period's first instant (midnight in
	// Location, a Monday for weeks, the 1st for months).
	Points []ports.SalesPoint
}

// Handle returns ErrNotAllowed (403) unless the caller is an admin, and a
// *domain.ValidationError (422) naming from, to, interval or tz when one is
// malformed, when from is after to, or when the range holds more than
// MaxPoints periods.
//
// from and to are RFC 3339 timestamps or YYYY-MM-DD dates, a date meaning
// midnight in tz; a to date includes that whole day (the range ends at the
// next midnight). Without to the range ends now; without from it starts at
// midnight DefaultDays-1 days before the day to falls in, so by default the
// answer covers the last 30 days, today included. interval is day (default),
// week or month; tz an IANA zone name (default Asia/Tashkent).
func (uc *Sales) Handle(ctx context.Context, in SalesInput) (SalesReport, error) {
	if err := checkAdmin(in.Actor); err != nil {
		return SalesReport{}, err
	}
	verr := &domain.ValidationError{}

	tz := in.TZ
	if tz == "" {
		tz = DefaultTZ
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" { // "Local" is whatever the host is set to
		verr.Add("tz", domain.MsgTimeZone)
		loc = time.UTC // still check the other parameters
	}

	interval := ports.IntervalDay
	switch ports.Interval(in.Interval) {
	case "":
	case ports.IntervalDay, ports.IntervalWeek, ports.IntervalMonth:
		interval = ports.Interval(in.Interval)
	default:
		verr.Add("interval", domain.MsgEither, domain.Args{"Values": "day, week", "Last": "month"})
	}

	to := uc.clock.Now()
	toIsDate := false // then to is the midnight after the day asked for
	if in.To != "" {
		t, isDate, ok := parseBound(in.To, loc, true)
		if !ok {
			verr.Add("to", domain.MsgTimestamp)
		}
		to, toIsDate = t, isDate
	}
	var from time.Time
	if in.From != "" {
		t, _, ok := parseBound(in.From, loc, false)
		if !ok {
			verr.Add("from", domain.MsgTimestamp)
		}
		from = t
	} else {
		y, m, d := to.Add(-time.Nanosecond).In(loc).Date() // the day to falls in; a midnight ends the day before
		from = time.Date(y, m, d-(DefaultDays-1), 0, 0, 0, 0, loc)
	}
	if len(verr.Fields) == 0 {
		switch {
		case from.After(to), toIsDate && !from.Before(to): // from after the whole day to names
			verr.Add("from", domain.MsgFromAfterTo)
		case periods(from, to, interval) > MaxPoints:
			verr.Add("from", domain.MsgTooManyPeriods, domain.Args{"Count": MaxPoints, "Interval": interval})
		}
	}
	if err := verr.OrNil(); err != nil {
		return SalesReport{}, err
	}

	points, err := uc.analytics.Sales(ctx, from, to, interval, loc)
	if err != nil {
		return SalesReport{}, err
	}
	if points == nil {
		points = []ports.SalesPoint{}
	}
	return SalesReport{From: from, To: to, Interval: interval, Location: loc, Points: points}, nil
}

// ParseBound is parseBound for the other admin lists that filter by time
// "like analytics" (the payments console): the same forms, the same meaning
// of a date.
func ParseBound(s string, loc *time.Location, isTo bool) (t time.Time, isDate, ok bool) {
	return parseBound(s, loc, isTo)
}

// parseBound reads an RFC 3339 timestamp, or a date at midnight in loc; for
// the upper bound (isTo) a date means the end of that day.
func parseBound(s string, loc *time.Location, isTo bool) (t time.Time, isDate, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, true
	}
	d, err := time.ParseInLocation(dateLayout, s, loc)
	if err != nil {
		return time.Time{}, false, false
	}
	if isTo {
		d = d.AddDate(0, 0, 1)
	}
	return d, true, true
}

// periods estimates from above how many periods [from, to) touches.
func periods(from, to time.Time, interval ports.Interval) int64 {
	span := to.Sub(from) // saturates for far-apart times, which still says "too many"
	switch interval {
	case ports.IntervalWeek:
		return int64(span/(7*24*time.Hour)) + 2
	case ports.IntervalMonth:
		return int64(span/(28*24*time.Hour)) + 2
	}
	return int64(span/(24*time.Hour)) + 2
}
