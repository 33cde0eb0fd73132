"""Seed catalogue: Open311 services and the clinic service types of the FHIR side."""
from __future__ import annotations

# Bump when the catalogue changes: Open311 clients refresh their caches on it.
CHANGESET = "2026-11-28T00:00:00+07:00"

HEPCO = "Công ty Cổ phần Môi trường và Công trình đô thị Huế (HEPCO)"
URBAN = "Phòng Quản lý đô thị, UBND phường/xã nơi phản ánh"
WATER = "Công ty Cổ phần Cấp nước Thừa Thiên Huế (HueWACO)"
LIGHTS = "Trung tâm Công viên cây xanh và Chiếu sáng Huế"
ORDER = "Đội Quản lý trật tự đô thị và Công an phường/xã nơi phản ánh"
HOTLINE = "Trung tâm Giám sát, điều hành đô thị thông minh Huế (Hue-S)"


def _values(*names: str) -> list[dict]:
    return [{"key": key, "name": name} for key, name in (n.split("=", 1) for n in names)]


# (code, name, description, keywords, group, agency, SLA hours, attributes)
SERVICES: list[tuple] = [
    (
        "rac_thai", "Rác thải, vệ sinh môi trường",
        "Rác tồn đọng, đổ rác sai nơi quy định, thùng rác đầy hoặc hư hỏng, xác động vật.",
        "rác, rác thải, xả rác, đổ rác, thùng rác, vệ sinh, môi trường, hôi thối, rac",
        "Môi trường", HEPCO, 48,
        [{
            "variable": True, "code": "loai_rac", "datatype": "singlevaluelist",
            "required": False, "datatype_description": None, "order": 1,
            "description": "Loại rác là gì?",
            "values": _values("sinh_hoat=Rác sinh hoạt", "xay_dung=Phế thải xây dựng",
                              "cong_kenh=Rác cồng kềnh", "xac_dong_vat=Xác động vật"),
        }],
    ),
    (
        "duong_hu_hong", "Hư hỏng đường, ổ gà",
        "Mặt đường bị lún, nứt, ổ gà, nắp cống hở hoặc vỡ, vỉa hè hư hỏng.",
        "ổ gà, ổ voi, đường hư, đường hỏng, lún, nứt, nắp cống, sụt lún, duong",
        "Giao thông", URBAN, 168,
        [{
            "variable": True, "code": "muc_do", "datatype": "singlevaluelist",
            "required": False, "datatype_description": None, "order": 1,
            "description": "Mức độ nguy hiểm cho người đi đường?",
            "values": _values("thap=Ít nguy hiểm", "vua=Cần chú ý", "cao=Rất nguy hiểm"),
        }],
    ),
    (
        "ngap_ung", "Ngập úng, thoát nước",
        "Đường ngập sau mưa, cống nghẹt, nước thải tràn ra đường.",
        "ngập, ngập nước, ngập úng, lụt, cống, cống nghẹt, thoát nước, nước thải, ngap",
        "Thoát nước", HEPCO, 24,
        [{
            "variable": True, "code": "muc_ngap", "datatype": "singlevaluelist",
            "required": False, "datatype_description": None, "order": 1,
            "description": "Nước ngập sâu khoảng bao nhiêu?",
            "values": _values("mat_ca=Dưới mắt cá chân", "dau_goi=Đến đầu gối",
                              "tren_dau_goi=Trên đầu gối"),
        }],
    ),
    (
        "den_duong", "Đèn đường hỏng",
        "Đèn chiếu sáng công cộng không sáng, chập chờn, sáng ban ngày hoặc cột đèn nghiêng đổ.",
        "đèn, đèn đường, bóng đèn, tối, cột đèn, chiếu sáng, den",
        "Chiếu sáng", LIGHTS, 72,
        [{
            "variable": True, "code": "so_den", "datatype": "number",
            "required": False, "datatype_description": "Số bóng đèn bị hỏng", "order": 1,
            "description": "Có mấy bóng đèn bị hỏng?",
        }],
    ),
    (
        "cay_xanh", "Cây xanh gãy đổ",
        "Cây gãy, đổ, nghiêng nguy hiểm, cành khô sắp rơi, cây che khuất đèn hoặc biển báo.",
        "cây, cây đổ, cây gãy, cành cây, nhánh cây, cây nghiêng, cay",
        "Cây xanh", LIGHTS, 24,
        [{
            "variable": True, "code": "chan_duong", "datatype": "singlevaluelist",
            "required": False, "datatype_description": None, "order": 1,
            "description": "Cây có đang chắn đường không?",
            "values": _values("co=Có, chắn đường", "khong=Không chắn đường"),
        }],
    ),
    (
        "lan_chiem_via_he", "Lấn chiếm vỉa hè, trật tự đô thị",
        "Buôn bán, để xe, vật liệu xây dựng lấn chiếm vỉa hè, lòng đường; quảng cáo sai quy định.",
        "lấn chiếm, vỉa hè, lề đường, buôn bán, đậu xe, trật tự, xây dựng trái phép, via he",
        "Trật tự đô thị", ORDER, 72, [],
    ),
    (
        "tieng_on", "Tiếng ồn",
        "Hát karaoke, loa kẹo kéo, công trình thi công gây ồn, nhất là ban đêm.",
        "ồn, tiếng ồn, karaoke, loa, hát, ồn ào, thi công ban đêm, on",
        "Trật tự đô thị", ORDER, 24,
        [{
            "variable": True, "code": "thoi_gian", "datatype": "singlevaluelist",
            "required": False, "datatype_description": None, "order": 1,
            "description": "Tiếng ồn thường xảy ra vào lúc nào?",
            "values": _values("ngay=Ban ngày", "toi=Buổi tối", "dem=Ban đêm, sau 22 giờ"),
        }],
    ),
    (
        "cap_nuoc", "Cấp nước, vỡ ống",
        "Mất nước, nước yếu, nước đục, vỡ ống nước, rò rỉ nước sạch.",
        "mất nước, cúp nước, vỡ ống, bể ống, rò rỉ, nước đục, nước yếu, nuoc",
        "Cấp nước", WATER, 24, [],
    ),
    (
        "khac", "Vấn đề khác",
        "Các vấn đề khác về đô thị, môi trường, an toàn trong khu dân cư.",
        "khác, khac, góp ý, kiến nghị",
        "Khác", HOTLINE, 120, [],
    ),
]

# Plain-words status an officer sets; Open311 itself only knows open/closed.
DETAILED_STATUSES = {
    "received": ("open", "Đã tiếp nhận"),
    "in_progress": ("open", "Đang xử lý"),
    "resolved": ("closed", "Đã xử lý xong"),
    "rejected": ("closed", "Không thuộc phạm vi xử lý"),
}

CLINIC_SERVICE_SYSTEM = "https://hue.gov.vn/fhir/CodeSystem/clinic-service"

# code -> (display, slot minutes)
CLINIC_SERVICES: dict[str, tuple[str, int]] = {
    "kham-tong-quat": ("Khám tổng quát", 15),
    "tim-mach": ("Tim mạch, huyết áp", 20),
    "noi-tiet": ("Nội tiết, tiểu đường", 20),
    "mat": ("Mắt", 20),
    "rang-ham-mat": ("Răng hàm mặt", 20),
    "co-xuong-khop": ("Cơ xương khớp", 20),
    "tiem-chung": ("Tiêm chủng", 15),
}

PHONE_SYSTEM = "https://hue.gov.vn/fhir/sid/phone"
ACCOUNT_SYSTEM = "https://hue.gov.vn/fhir/sid/chat-account"

_ALL = list(CLINIC_SERVICES)
_STATION = ["kham-tong-quat", "tim-mach", "noi-tiet", "tiem-chung"]
HOSPITAL_SESSIONS = [["07:00", "11:30"], ["13:30", "16:30"]]
STATION_SESSIONS = [["07:30", "11:00"], ["13:30", "16:00"]]

# Names, wards and the 16 Lê Lợi address are checked (docs/research/hue-facilities.md);
# coordinates are estimates and ward stations have no published street address yet.
# (id, name, aliases, kind, street, ward, lat, long, services)
FACILITIES: list[tuple] = [
    ("bv-trung-uong-hue", "Bệnh viện Trung ương Huế",
     ["BV Trung ương Huế", "Trung ương Huế", "Bệnh viện Huế"],
     "hospital", "16 Lê Lợi", "Phường Thuận Hóa", 16.4633, 107.5866, _ALL),
    ("bv-trung-uong-hue-co-so-2", "Bệnh viện Trung ương Huế - Cơ sở 2",
     ["Bệnh viện Đa khoa tỉnh Thừa Thiên Huế", "BV Trung ương Huế cơ sở 2", "Bệnh viện Phong An"],
     "hospital", "Quốc lộ 1A, Phong An", "Phường Phong Thái", 16.5630, 107.4200,
     ["kham-tong-quat", "tim-mach", "noi-tiet", "mat", "co-xuong-khop"]),
    ("bv-dai-hoc-y-duoc-hue", "Bệnh viện Trường Đại học Y - Dược Huế",
     ["BV Đại học Y Dược Huế", "Bệnh viện Đại học Y Dược", "Bệnh viện trường Y"],
     "hospital", "Đường Nguyễn Huệ", "Phường Thuận Hóa", 16.4605, 107.5850, _ALL),
    ("tyt-thuan-hoa", "Trạm Y tế phường Thuận Hóa", ["Trạm y tế Thuận Hóa"],
     "station", None, "Phường Thuận Hóa", 16.4640, 107.5950, _STATION),
    ("tyt-phu-xuan", "Trạm Y tế phường Phú Xuân", ["Trạm y tế Phú Xuân"],
     "station", None, "Phường Phú Xuân", 16.4700, 107.5780, _STATION),
    ("tyt-vy-da", "Trạm Y tế phường Vỹ Dạ", ["Trạm y tế Vỹ Dạ", "Trạm y tế Vĩ Dạ"],
     "station", None, "Phường Vỹ Dạ", 16.4720, 107.6000, _STATION),
    ("tyt-kim-long", "Trạm Y tế phường Kim Long", ["Trạm y tế Kim Long"],
     "station", None, "Phường Kim Long", 16.4660, 107.5570, _STATION),
    ("tyt-an-cuu", "Trạm Y tế phường An Cựu", ["Trạm y tế An Cựu"],
     "station", None, "Phường An Cựu", 16.4560, 107.6000, _STATION),
    ("tyt-thuy-xuan", "Trạm Y tế phường Thủy Xuân", ["Trạm y tế Thủy Xuân", "Trạm y tế Thuỷ Xuân"],
     "station", None, "Phường Thủy Xuân", 16.4330, 107.5740, _STATION),
]

