package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/zhengxin/zhengxin/seal"
)

func (s *Server) listSeals(w http.ResponseWriter, r *http.Request) {
	if s.deps.Seals == nil {
		notConfigured(w, r, "印章服务 (seals)")
		return
	}
	p := PrincipalFrom(r.Context())
	agency := r.URL.Query().Get("agency")
	if p.Role != RoleAdmin {
		agency = p.Agency
	}
	ss, err := s.deps.Seals.ListSeals(r.Context(), agency)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writePage(w, ss, "")
}

// sealFor loads the seal of the request's {id} that the caller may see;
// another agency's seal is 404, as for licenses. On false the answer is
// written.
func (s *Server) sealFor(w http.ResponseWriter, r *http.Request) (*SealInfo, []byte, bool) {
	if s.deps.Seals == nil {
		notConfigured(w, r, "印章服务 (seals)")
		return nil, nil, false
	}
	p := PrincipalFrom(r.Context())
	info, b, err := s.deps.Seals.GetSeal(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, ErrNotFound) || (err == nil && p.Role != RoleAdmin && info.Agency != p.Agency) {
		writeProblem(w, r, probNotFound, "印章不存在。", "No such seal.")
		return nil, nil, false
	}
	if err != nil {
		s.internal(w, r, err)
		return nil, nil, false
	}
	return info, b, true
}

// getSeal sends the GB/T 38540 seal file (.esl). Another agency's seal is
// 404, as for licenses.
func (s *Server) getSeal(w http.ResponseWriter, r *http.Request) {
	info, b, ok := s.sealFor(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFilename(info.ID)+`.esl"`)
	_, _ = w.Write(b)
}

// sealPictureTypes are the picture formats of GB/T 38540 a browser shows
// as an image (others, SVG above all, could carry script: not served).
var sealPictureTypes = map[string]string{"PNG": "image/png", "JPG": "image/jpeg", "JPEG": "image/jpeg", "GIF": "image/gif"}

// getSealPicture sends the stamp picture the seal file carries, so that
// the console shows the real stamp. Same access as getSeal.
func (s *Server) getSealPicture(w http.ResponseWriter, r *http.Request) {
	info, b, ok := s.sealFor(w, r)
	if !ok {
		return
	}
	sl, err := seal.ParseSeal(b)
	if err != nil {
		s.internal(w, r, fmt.Errorf("seal %s: stored file does not parse: %w", info.ID, err))
		return
	}
	ct, ok := sealPictureTypes[strings.ToUpper(sl.Picture.Type)]
	if !ok || len(sl.Picture.Data) == 0 {
		writeProblem(w, r, probNotFound, "该印章的图片格式（"+sl.Picture.Type+"）无法在页面显示。", "This seal's picture ("+sl.Picture.Type+") cannot be shown in a page.")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(sl.Picture.Data)
}

// makeSeal takes a JSON SealRequest (picture as base64 PNG, up to 10 MB).
func (s *Server) makeSeal(w http.ResponseWriter, r *http.Request) {
	if s.deps.Seals == nil {
		notConfigured(w, r, "印章服务 (seals)")
		return
	}
	var req SealRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	p := PrincipalFrom(r.Context())
	agency, ok := agencyFor(w, r, p, req.Agency)
	if !ok {
		return
	}
	var fe []FieldError
	if req.Name == "" || len(req.Name) > 200 {
		fe = append(fe, FieldError{"name", "须填写印章名称。", "the seal name is required."})
	}
	if req.ValidDays < 0 || req.ValidDays > 3650*2 {
		fe = append(fe, FieldError{"valid_days", "有效天数须在 0 到 7300 之间。", "must be 0 to 7300."})
	}
	if len(req.Picture) > 0 && !bytes.HasPrefix(req.Picture, []byte("\x89PNG\r\n\x1a\n")) {
		fe = append(fe, FieldError{"picture", "印章图片须为 PNG。", "the picture must be a PNG."})
	}
	if fe != nil {
		validationProblem(w, r, fe)
		return
	}
	info, err := s.deps.Seals.MakeSeal(r.Context(), agency, &req)
	var ve *ValidationError
	if errors.As(err, &ve) {
		validationProblem(w, r, ve.Fields)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.audit(r, agency, "seal.make", "seal:"+info.ID, map[string]string{"agency": agency, "name": info.Name})
	writeJSON(w, http.StatusCreated, info)
}

// signPDF takes a raw PDF body (Content-Type application/pdf) and returns it
// signed by incremental update. Query: seal, page, x, y, agency (admins).
func (s *Server) signPDF(w http.ResponseWriter, r *http.Request) {
	if s.deps.PDFSigner == nil {
		notConfigured(w, r, "PDF 签章 (PDF signing)")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/pdf" {
		writeProblem(w, r, probMediaType, "请以 Content-Type: application/pdf 上传 PDF。", "Upload the PDF with Content-Type: application/pdf.")
		return
	}
	q := r.URL.Query()
	p := PrincipalFrom(r.Context())
	agency, ok := agencyFor(w, r, p, q.Get("agency"))
	if !ok {
		return
	}
	req := &SignPDFRequest{SealID: q.Get("seal")}
	var err1, err2, err3 error
	if v := q.Get("page"); v != "" {
		req.Page, err1 = strconv.Atoi(v)
	}
	if v := q.Get("x"); v != "" {
		req.X, err2 = strconv.ParseFloat(v, 64)
	}
	if v := q.Get("y"); v != "" {
		req.Y, err3 = strconv.ParseFloat(v, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || req.Page < 0 || req.X < 0 || req.Y < 0 || req.X > 14400 || req.Y > 14400 {
		writeProblem(w, r, probBadRequest, "page、x、y 须为非负数字。", "page, x and y must be non-negative numbers.")
		return
	}
	body, err := io.ReadAll(r.Body)
	if answerTooLarge(w, r, err) {
		return
	}
	if err != nil {
		writeProblem(w, r, probBadRequest, "读取上传内容失败。", "Could not read the upload.")
		return
	}
	if !bytes.HasPrefix(body, []byte("%PDF-")) {
		writeProblem(w, r, probValidation, "上传内容不是 PDF（缺少 %PDF- 文件头）。", "The upload is not a PDF (no %PDF- header).")
		return
	}
	if req.SealID != "" && s.deps.Seals != nil {
		info, _, err := s.deps.Seals.GetSeal(r.Context(), req.SealID)
		if errors.Is(err, ErrNotFound) || (err == nil && info.Agency != agency) {
			writeProblem(w, r, probNotFound, "印章不存在。", "No such seal.")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
	}
	req.PDF = body
	out, err := s.deps.PDFSigner.SignPDF(r.Context(), agency, req)
	var ve *ValidationError
	if errors.As(err, &ve) {
		validationProblem(w, r, ve.Fields)
		return
	}
	if errors.Is(err, ErrNotFound) {
		writeProblem(w, r, probNotFound, "印章不存在或页码超出范围。", "No such seal, or the page is out of range.")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	in, o := sha256.Sum256(body), sha256.Sum256(out)
	s.audit(r, agency, "pdf.sign", "seal:"+req.SealID, map[string]string{"agency": agency, "in_sha256": hex.EncodeToString(in[:]), "out_sha256": hex.EncodeToString(o[:])})
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="signed.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(out)
}
