package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Stream names. One aggregate instance per stream; the category prefix tells a
// reader which aggregate a stream holds.
const (
	StreamPolicy = "policy"
	StreamUnits  = "units"
)

// ProjectStream is "project-<uuid>".
func ProjectStream(id string) string { return CategoryProject + "-" + id }

// SupervisionStream is "supervision-<uuid>".
func SupervisionStream(id string) string { return CategorySupervision + "-" + id }

// ToleranceStream is "tolerance-<uuid>".
func ToleranceStream(id string) string { return CategoryTolerance + "-" + id }

// TargetsStream is "targets-<year>".
func TargetsStream(year int) string { return CategoryTargets + "-" + strconv.Itoa(year) }

// AssessmentStream is "assessment-<year>".
func AssessmentStream(year int) string { return CategoryAssessment + "-" + strconv.Itoa(year) }

// ExclusivityStream is "exclusivity-<hash>", the claim stream of a key built by
// ExclusivityKeyOf. The hash (hex SHA-256 of the key) keeps Chinese names and
// punctuation out of stream names.
func ExclusivityStream(key string) string {
	sum := sha256.Sum256([]byte(key))
	return CategoryExclusivity + "-" + hex.EncodeToString(sum[:])
}

// SplitStream splits a stream name into its category and id ("project",
// "<uuid>"); the singleton streams "policy" and "units" have an empty id.
func SplitStream(name string) (category, id string) {
	if name == StreamPolicy || name == StreamUnits {
		return name, ""
	}
	category, id, _ = strings.Cut(name, "-")
	return category, id
}

// StreamYear reads the year of a targets-<year> or assessment-<year> stream.
func StreamYear(name string) (int, error) {
	cat, id := SplitStream(name)
	if cat != CategoryTargets && cat != CategoryAssessment {
		return 0, fmt.Errorf("stream %q has no year", name)
	}
	y, err := strconv.Atoi(id)
	if err != nil {
		return 0, fmt.Errorf("stream %q: %w", name, err)
	}
	return y, nil
}

// ValidID reports whether s is a UUID in canonical 8-4-4-4-12 hexadecimal form,
// the form of project, order and case ids.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func checkID(v *validator, field, id string) {
	if id == "" {
		v.add(field, "required", "is required")
	} else if !ValidID(id) {
		v.add(field, "format", "must be a UUID")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
