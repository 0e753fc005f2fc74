package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	_ "image/gif" // QR pictures arrive as PNG, JPEG or GIF
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/zhengxin/zhengxin/license/qrpng"
	"github.com/zhengxin/zhengxin/verify/report"
)

// MaxImagePixels bounds a decoded QR picture (a 10 MB PNG can claim to be
// 100000x100000; DecodeConfig is checked before any pixel is decoded).
const MaxImagePixels = 40 << 20

// bufPool recycles request and response buffers on the verify hot path.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { b := bufPool.Get().(*bytes.Buffer); b.Reset(); return b }

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 { // do not keep a 50 MB PDF's buffer around
		bufPool.Put(b)
	}
}

type verifyJSON struct {
	QR string `json:"qr"`
}

// verify is POST /api/v1/verify. Accepted bodies:
//
//	application/json       {"qr": "<QR payload text>"}
//	text/plain             the QR payload text
//	image/png|jpeg|gif     a picture of a QR code (up to 10 MB)
//	application/pdf        a signed PDF (up to 50 MB)
//	application/octet-stream  anything; the kind is detected (e.g. a .esl seal file)
//	multipart/form-data    a part "qr" (text) or "file" (any of the above)
//
// The answer is always the verification report with 200, whatever the
// verdict; problems (400/413/415/422/429) mean nothing was verified.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	buf := getBuf()
	defer putBuf(buf)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	hint := r.URL.Query().Get("kind")
	switch hint {
	case "", "qr", "pdf", "seal":
	default:
		writeProblem(w, r, probBadRequest, "kind 须为 qr、pdf 或 seal。", "kind must be qr, pdf or seal.")
		return
	}

	var input []byte
	switch {
	case mt == "multipart/form-data":
		var ok bool
		input, hint, ok = s.readMultipart(w, r, params["boundary"], hint, buf)
		if !ok {
			return
		}
	default:
		limit := int64(MaxJSONBytes)
		switch {
		case mt == "application/pdf" || mt == "application/octet-stream" || mt == "":
			limit = MaxPDFBytes
		case strings.HasPrefix(mt, "image/"):
			limit = MaxImageBytes
		}
		if r.ContentLength > limit {
			tooLarge(w, r, limit)
			return
		}
		if _, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1)); err != nil {
			if !answerTooLarge(w, r, err) {
				writeProblem(w, r, probBadRequest, "读取上传内容失败。", "Could not read the upload.")
			}
			return
		}
		if int64(buf.Len()) > limit {
			tooLarge(w, r, limit)
			return
		}
		var ok bool
		input, hint, ok = s.classify(w, r, mt, buf.Bytes(), hint)
		if !ok {
			return
		}
	}
	if len(input) == 0 {
		writeProblem(w, r, probValidation, "没有要验证的内容。", "Nothing to verify: the body is empty.")
		return
	}
	rep := s.deps.Verify(r.Context(), input, hint)
	if rep == nil { // a Verifier must not do this; never answer PASSED by accident
		rep = &report.Report{Verdict: report.Indeterminate, Reason: report.TryLater, Message: report.MessageFor(report.TryLater), CheckedAt: s.now().UTC()}
	}
	s.metrics.verification.WithLabelValues(string(rep.Verdict), string(rep.Reason), rep.Kind).Inc()
	out := getBuf()
	defer putBuf(out)
	// json v2 (go-json-experiment) encodes the report's maps without
	// sorting their keys: 2.4x faster than encoding/json here, which was a
	// fifth of the whole request. The bytes are the same JSON.
	if err := jsonv2.MarshalWrite(out, rep); err != nil {
		s.internal(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	_, _ = w.Write(out.Bytes())
}

// classify turns one uploaded body into verifier input and kind hint.
func (s *Server) classify(w http.ResponseWriter, r *http.Request, mt string, body []byte, hint string) ([]byte, string, bool) {
	switch {
	case mt == "application/json":
		var v verifyJSON
		if err := json.Unmarshal(body, &v); err != nil {
			writeProblem(w, r, probInvalidJSON, "请求体应为 {\"qr\": \"...\"}。", `The body must be {"qr": "..."}.`)
			return nil, "", false
		}
		return []byte(strings.TrimSpace(v.QR)), "qr", true
	case mt == "text/plain":
		return bytes.TrimSpace(body), "qr", true
	case mt == "application/pdf":
		return body, "pdf", true
	case strings.HasPrefix(mt, "image/"):
		text, ok := s.decodeQRImage(w, r, body)
		return []byte(text), "qr", ok
	case mt == "application/octet-stream" || mt == "":
		switch {
		case bytes.HasPrefix(body, []byte("%PDF-")):
			return body, "pdf", true
		case isImage(body):
			if int64(len(body)) > MaxImageBytes {
				tooLarge(w, r, MaxImageBytes)
				return nil, "", false
			}
			text, ok := s.decodeQRImage(w, r, body)
			return []byte(text), "qr", ok
		}
		return body, hint, true
	}
	writeProblem(w, r, probMediaType, "不支持的内容类型："+mt+"。", "Unsupported Content-Type: "+mt+".")
	return nil, "", false
}

func isImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(b, []byte("\xff\xd8\xff")) || bytes.HasPrefix(b, []byte("GIF8"))
}

// readMultipart reads the first part named "qr" or "file".
func (s *Server) readMultipart(w http.ResponseWriter, r *http.Request, boundary, hint string, buf *bytes.Buffer) ([]byte, string, bool) {
	if boundary == "" {
		writeProblem(w, r, probBadRequest, "multipart 请求缺少 boundary。", "The multipart request has no boundary.")
		return nil, "", false
	}
	mr := multipart.NewReader(r.Body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			writeProblem(w, r, probValidation, "请上传名为 file 的文件或名为 qr 的文本。", `Send a part named "file" or "qr".`)
			return nil, "", false
		}
		if err != nil {
			if !answerTooLarge(w, r, err) {
				writeProblem(w, r, probBadRequest, "multipart 内容无法解析。", "The multipart body cannot be parsed.")
			}
			return nil, "", false
		}
		name := part.FormName()
		if name != "qr" && name != "file" {
			continue
		}
		buf.Reset()
		if _, err := buf.ReadFrom(part); err != nil {
			if !answerTooLarge(w, r, err) {
				writeProblem(w, r, probBadRequest, "读取上传内容失败。", "Could not read the upload.")
			}
			return nil, "", false
		}
		if name == "qr" {
			return bytes.TrimSpace(buf.Bytes()), "qr", true
		}
		pmt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if strings.HasPrefix(pmt, "image/") && int64(buf.Len()) > MaxImageBytes {
			tooLarge(w, r, MaxImageBytes)
			return nil, "", false
		}
		if pmt != "application/pdf" && !strings.HasPrefix(pmt, "image/") && pmt != "text/plain" {
			pmt = "application/octet-stream" // browsers guess; trust the bytes
		}
		return s.classify(w, r, pmt, buf.Bytes(), hint)
	}
}

// decodeQRImage finds and decodes the QR code in a picture.
func (s *Server) decodeQRImage(w http.ResponseWriter, r *http.Request, b []byte) (string, bool) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		writeProblem(w, r, probValidation, "图片无法解码（支持 PNG、JPEG、GIF）。", "The picture cannot be decoded (PNG, JPEG and GIF are supported).")
		return "", false
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxImagePixels {
		writeProblem(w, r, probTooLarge, "图片像素过多。", "The picture has too many pixels.")
		return "", false
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		writeProblem(w, r, probValidation, "图片无法解码（支持 PNG、JPEG、GIF）。", "The picture cannot be decoded (PNG, JPEG and GIF are supported).")
		return "", false
	}
	text, err := decodeQR(img)
	if err != nil {
		writeProblem(w, r, probNoQR, "图片中未找到可识别的二维码，请拍得更清晰、更正一些。", "No readable QR code in the picture; take a sharper, straighter photo.")
		return "", false
	}
	return text, true
}

var errNoQR = errors.New("server: no QR code found in the picture")

// decodeQR reads the QR code in a picture with qrpng (gozxing, retried at
// other scales where its sampler misreads), the reader the CLI uses too.
func decodeQR(img image.Image) (string, error) {
	text, err := qrpng.DecodeImage(img)
	if err != nil {
		return "", errNoQR
	}
	return text, nil
}
