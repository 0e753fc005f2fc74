package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/zhengxin/zhengxin/license"
)

type claimRequest struct {
	Code string `json:"code"`
	// DeviceKey is the wallet's device public key (PEM SPKI, SM2 or P-256);
	// the claimed license is bound to it.
	DeviceKey string `json:"device_key,omitempty"`
}

type claimResponse struct {
	License *License `json:"license"`
	// Token is a new holder API token, returned once, when the caller had
	// none. The wallet keeps it to list its licenses and usage records.
	Token string `json:"token,omitempty"`
}

// claim takes a license into a wallet with the one-time code the issuing
// agency gave the holder. Anonymous callers get a new holder token bound to
// the license's holder ID; a holder token must already be that holder's.
func (s *Server) claim(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p != nil && p.Role != RoleHolder {
		writeProblem(w, r, probForbidden, "只有持证人可以领取证照。", "Only holders claim licenses.")
		return
	}
	var req claimRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	code := normalizeClaimCode(req.Code)
	if len(code) != 16 {
		writeProblem(w, r, probValidation, "领取码应为 16 位字母数字（可含短横线）。", "A claim code has 16 letters and digits (dashes allowed).")
		return
	}
	// A claim that cannot be bound is refused before the code is spent.
	if req.DeviceKey != "" {
		if s.deps.Binder == nil {
			// 400 naming the field: a wallet then claims without it and
			// shows the static QR (wallet.js).
			writeProblem(w, r, probBadRequest, "此服务不能将证照绑定到设备密钥（device_key）。", "This service cannot bind licenses to a device key (device_key).")
			return
		}
		if _, err := license.ParseHolderPublicKey([]byte(req.DeviceKey)); err != nil {
			writeProblem(w, r, probValidation, "设备密钥无效：应为 SM2 或 P-256 公钥（PEM）。", "The device key is not a valid SM2 or P-256 public key (PEM).")
			return
		}
	}
	c, err := s.store.RedeemClaim(r.Context(), claimHash(code), s.now().UTC())
	if errors.Is(err, ErrNotFound) {
		writeProblem(w, r, probNotFound, "领取码无效、已使用或已过期。", "The claim code is unknown, used or expired.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if p != nil && !strings.EqualFold(p.HolderID, c.HolderID) {
		// The code is spent either way: a code leaked to someone else
		// must not stay usable.
		writeProblem(w, r, probNotFound, "领取码无效、已使用或已过期。", "The claim code is unknown, used or expired.")
		return
	}
	var l *License
	if req.DeviceKey != "" {
		l, err = s.deps.Binder.BindHolder(r.Context(), c.LicenseID, []byte(req.DeviceKey))
		if errors.Is(err, ErrInvalidKey) {
			writeProblem(w, r, probValidation, "设备密钥无效：应为 SM2 或 P-256 公钥（PEM）。", "The device key is not a valid SM2 or P-256 public key (PEM).")
			return
		}
	} else {
		l, err = s.store.GetLicense(r.Context(), c.LicenseID)
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	resp := claimResponse{License: l}
	if p == nil {
		secret, hash := NewTokenSecret()
		t := &Token{ID: randomID(8), Hash: hash, Name: "wallet", Role: RoleHolder, HolderID: strings.ToUpper(c.HolderID), CreatedAt: s.now().UTC()}
		if err := s.store.CreateToken(r.Context(), t); err != nil {
			s.internal(w, r, err)
			return
		}
		resp.Token = secret
	}
	s.audit(r, l.Agency, "license.claim", l.ID, map[string]string{"agency": l.Agency, "holder": MaskID(l.HolderID)})
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) holderLicenses(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p.HolderID == "" {
		writeProblem(w, r, probForbidden, "此令牌未绑定持证人。", "This token is not bound to a holder.")
		return
	}
	cursor, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	items, next, err := s.store.ListLicenses(r.Context(), LicenseFilter{HolderID: strings.ToUpper(p.HolderID), Cursor: cursor, Limit: limit})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, next)
}

func (s *Server) holderUsage(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p.HolderID == "" {
		writeProblem(w, r, probForbidden, "此令牌未绑定持证人。", "This token is not bound to a holder.")
		return
	}
	s.listUsage(w, r, UsageFilter{HolderID: strings.ToUpper(p.HolderID)})
}

func (s *Server) licenseUsage(w http.ResponseWriter, r *http.Request) {
	l, ok := s.license(w, r)
	if !ok {
		return
	}
	s.listUsage(w, r, UsageFilter{LicenseID: l.ID})
}

func (s *Server) listUsage(w http.ResponseWriter, r *http.Request, f UsageFilter) {
	var ok bool
	if f.Cursor, f.Limit, ok = pageParams(w, r); !ok {
		return
	}
	items, next, err := s.store.ListUsage(r.Context(), f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, items, next)
}

type usageRequest struct {
	LicenseID   string   `json:"license_id"`
	ServiceItem string   `json:"service_item"`
	Verdict     string   `json:"verdict"`
	Reason      string   `json:"reason,omitempty"`
	Disclosed   []string `json:"disclosed,omitempty"`
}

// addUsage records that a counter used a license (用证记录), normally right
// after verifying the holder's QR. The holder sees it in the wallet.
func (s *Server) addUsage(w http.ResponseWriter, r *http.Request) {
	var req usageRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	var fe []FieldError
	if req.LicenseID == "" {
		fe = append(fe, FieldError{"license_id", "须填写证照标识。", "required."})
	}
	if strings.TrimSpace(req.ServiceItem) == "" || len(req.ServiceItem) > 300 {
		fe = append(fe, FieldError{"service_item", "须填写办理事项（不超过 300 字节）。", "the service item is required (at most 300 bytes)."})
	}
	if len(req.Reason) > 64 {
		fe = append(fe, FieldError{"reason", "原因代码不超过 64 字节。", "at most 64 bytes."})
	}
	if len(req.Disclosed) > 100 {
		fe = append(fe, FieldError{"disclosed", "最多 100 个字段。", "at most 100 field names."})
	}
	switch req.Verdict {
	case "PASSED", "FAILED", "INDETERMINATE":
	default:
		fe = append(fe, FieldError{"verdict", "须为 PASSED、FAILED 或 INDETERMINATE。", "must be PASSED, FAILED or INDETERMINATE."})
	}
	if fe != nil {
		sendProblem(w, &Problem{Type: ProblemTypePrefix + probValidation.code, Title: bilingual(probValidation.title),
			Status: 422, Code: probValidation.code, Instance: r.URL.Path, Message: probValidation.title, Errors: fe})
		return
	}
	l, err := s.store.GetLicense(r.Context(), req.LicenseID)
	if errors.Is(err, ErrNotFound) {
		writeProblem(w, r, probNotFound, "证照不存在。", "No such license.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	p := PrincipalFrom(r.Context())
	u := &Usage{LicenseID: l.ID, HolderID: strings.ToUpper(l.HolderID), Counter: p.Agency, Operator: p.Name,
		ServiceItem: req.ServiceItem, Verdict: req.Verdict, Reason: req.Reason, Disclosed: req.Disclosed,
		At: s.now().UTC().Truncate(time.Microsecond)}
	if err := s.store.AddUsage(r.Context(), u); err != nil {
		s.internal(w, r, err)
		return
	}
	s.audit(r, l.Agency, "usage.record", l.ID, map[string]string{"agency": l.Agency, "service_item": req.ServiceItem, "verdict": req.Verdict})
	writeJSON(w, http.StatusCreated, u)
}
