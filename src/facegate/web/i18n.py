"""The kiosk's words in Chinese and English.

Notice texts come from the purpose's published notice; these are only the
kiosk's own labels and guidance, in plain words (CN Art. 5: clear language,
accessible to elderly and disabled people).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

__all__ = ["GUIDANCE", "ITEM_HEADINGS", "LANGUAGES", "text", "when"]

LANGUAGES: Final = ("zh", "en")

#: Plain-word headings of the notice's Art. 5 items.
ITEM_HEADINGS: Final[dict[str, dict[str, str]]] = {
    "processor": {"zh": "谁在处理您的信息", "en": "Who is asking"},
    "purpose_and_method": {"zh": "我们会如何使用您的人脸", "en": "What we do with your face"},
    "retention_period": {"zh": "保存多久", "en": "How long we keep it"},
    "necessity_and_impact": {"zh": "为什么需要，对您有什么影响",
                             "en": "Why we ask, and what it means for you"},
    "how_to_exercise_rights": {"zh": "您的权利，以及如何撤回同意",
                               "en": "Your rights, and how to change your mind"},
    "other_legal_items": {"zh": "其他须知", "en": "Other things you should know"},
    "accessibility": {"zh": "如果您需要帮助", "en": "If you need help"},
}

#: What the camera guidance says for each quality reason.
GUIDANCE: Final[dict[str, dict[str, str]]] = {
    "ok": {"zh": "很好！请保持不动，然后拍照。", "en": "Good. Hold still and take the photo."},
    "no_face": {"zh": "看不到您的脸。请站到摄像头正前方。",
                "en": "We can't see a face. Please stand in front of the camera."},
    "multiple_faces": {"zh": "请一次只有一个人在画面中。",
                       "en": "Only one person in the picture, please."},
    "small_face": {"zh": "太远了，请再靠近一些。",
                   "en": "Too far away. Please come a little closer."},
    "low_sharpness": {"zh": "画面模糊，请保持不动。",
                      "en": "The picture is blurred. Please hold still."},
    "extreme_pose": {"zh": "请平视摄像头，不要抬头或低头。",
                     "en": "Please look straight at the camera, chin level."},
    "turned_away": {"zh": "请把脸转向摄像头，正对屏幕。",
                    "en": "Please turn to face the camera."},
    "low_brightness": {"zh": "太暗了，请到光线更好的地方。",
                       "en": "Too dark. Please move into better light."},
    "high_brightness": {"zh": "光线太强，请避开直射的灯光。",
                        "en": "Too bright. Please step out of direct light."},
    "low_confidence": {"zh": "请正对摄像头，不要遮挡面部。",
                       "en": "Please face the camera with nothing covering your face."},
    "blink": {"zh": "请眨眨眼", "en": "Please blink"},
    "turn_left": {"zh": "请慢慢向右转头", "en": "Slowly turn your head to your right"},
    "turn_right": {"zh": "请慢慢向左转头", "en": "Slowly turn your head to your left"},
}

_T: Final[dict[str, dict[str, str]]] = {
    "kiosk_title": {"zh": "人脸识别登记", "en": "Face recognition sign-up"},
    "skip": {"zh": "跳到主要内容", "en": "Skip to main content"},
    "language": {"zh": "语言", "en": "Language"},
    "large_text": {"zh": "大字模式", "en": "Large text"},
    "start_over": {"zh": "重新开始", "en": "Start over"},
    "sign_out": {"zh": "工作人员退出登录", "en": "Staff sign-out"},
    "notice_heading": {"zh": "在您选择之前，请了解我们会如何使用您的人脸信息",
                       "en": "Before you choose: how your face would be used"},
    "notice_intro": {"zh": "以下是本项服务的告知书全文。使用人脸识别完全自愿。",
                     "en": "This is the full notice for this service. Using face recognition "
                           "is entirely your choice."},
    "notice_version": {"zh": "告知书版本", "en": "Notice version"},
    "published": {"zh": "发布于", "en": "published"},
    "choose_heading": {"zh": "请选择您的方式", "en": "Choose how you want to continue"},
    "choose_equal": {"zh": "两种方式都可以。选择不使用人脸识别不会带来任何不利影响。",
                     "en": "Both ways are equally fine. Saying no to face recognition has no "
                           "consequences for you."},
    "choice_face": {"zh": "使用人脸识别", "en": "Use face recognition"},
    "choice_face_sub": {"zh": "拍一张照片，以后刷脸通行。您可以随时撤回。",
                        "en": "Take a photo now; your face opens the door later. "
                              "You can withdraw at any time."},
    "choice_alt": {"zh": "使用其他方式", "en": "Use another way"},
    "choice_alt_sub": {"zh": "不收集任何人脸信息：", "en": "No face data is collected: "},
    "consent_heading": {"zh": "单独同意", "en": "Your separate consent"},
    "consent_intro": {"zh": "只有在您明确同意后，我们才会使用摄像头。",
                      "en": "We only turn the camera on after you clearly agree."},
    "consent_statement": {"zh": "我同意{processor}按照第{version}版告知书所述，为"
                                "“{purpose}”处理我的人脸信息。人脸模板保存{retention}，"
                                "我可以随时撤回同意。",
                          "en": "I agree that {processor} processes my face for "
                                "\u201c{purpose}\u201d as described in notice version "
                                "{version}. The face template is kept for {retention}, and I can "
                                "withdraw at any time."},
    "age_legend": {"zh": "您的年龄段", "en": "Your age group"},
    "age_under_14": {"zh": "未满14岁", "en": "Under 14"},
    "age_14_15": {"zh": "14至15岁", "en": "14 to 15"},
    "age_16_17": {"zh": "16至17岁", "en": "16 to 17"},
    "age_adult": {"zh": "18岁及以上", "en": "18 or older"},
    "guardian_legend": {"zh": "监护人同意（未满14岁时必填）",
                        "en": "Parent or guardian (needed if you are under 14)"},
    "guardian_help": {"zh": "未满14岁的儿童需要父母或其他监护人同意，并请监护人在场。",
                      "en": "A child under 14 needs a parent or guardian to agree, "
                            "and they should be here with you."},
    "guardian_name": {"zh": "监护人姓名", "en": "Parent or guardian's name"},
    "guardian_relation": {"zh": "与儿童的关系", "en": "Relationship to the child"},
    "consent_yes": {"zh": "我同意", "en": "I consent"},
    "consent_no": {"zh": "我不同意，使用其他方式", "en": "I do not consent: use another way"},
    "need_age": {"zh": "请选择您的年龄段。", "en": "Please choose your age group."},
    "need_guardian": {"zh": "未满14岁需要填写监护人姓名和关系。",
                      "en": "Under 14: please give the parent's or guardian's name and "
                            "relationship."},
    "capture_heading": {"zh": "拍照登记", "en": "Take your photo"},
    "check_heading": {"zh": "试一下：确认是您本人", "en": "Let's check it recognises you"},
    "capture_intro": {"zh": "请正对摄像头。屏幕上的提示会告诉您如何调整。",
                      "en": "Look at the camera. The hints on screen tell you how to adjust."},
    "check_intro": {"zh": "照片已保存为加密模板。请再看一次摄像头，确认系统能认出您。",
                    "en": "Your photo was turned into an encrypted template. Look at the camera "
                          "once more to check that it recognises you."},
    "camera_starting": {"zh": "正在打开摄像头…", "en": "Starting the camera\u2026"},
    "no_camera": {"zh": "无法打开摄像头。您可以选择一张照片，或使用其他方式。",
                  "en": "The camera could not start. You can choose a photo instead, or use "
                        "another way."},
    "take_photo": {"zh": "拍照", "en": "Take photo"},
    "check_now": {"zh": "确认", "en": "Check now"},
    "choose_photo": {"zh": "选择照片", "en": "Choose a photo"},
    "send_photo": {"zh": "发送照片", "en": "Send photo"},
    "stop_alt": {"zh": "停止，改用其他方式", "en": "Stop and use another way"},
    "liveness_intro": {"zh": "为防止他人用照片冒充，请按提示做动作。",
                       "en": "To make sure nobody uses a photo of you, please follow the "
                             "prompts."},
    "working": {"zh": "请稍候…", "en": "One moment\u2026"},
    "problem_no_face": {"zh": "照片中没有找到人脸，请再试一次。",
                        "en": "We could not find a face in that photo. Please try again."},
    "problem_multiple": {"zh": "照片中有多个人，请确保只有您一人。",
                         "en": "There was more than one face. Please make sure only you are in "
                               "the picture."},
    "problem_quality": {"zh": "照片质量不够，请按提示调整后重试。",
                        "en": "The photo was not clear enough. Please follow the hints and try "
                              "again."},
    "problem_liveness": {"zh": "动作检测未通过，请再试一次。",
                         "en": "The movement check did not pass. Please try again."},
    "problem_image": {"zh": "无法读取这张照片，请再试一次。",
                      "en": "That photo could not be read. Please try again."},
    "alt_heading": {"zh": "好的，请使用其他方式", "en": "That's fine: please use another way"},
    "alt_intro": {"zh": "我们没有收集您的任何人脸信息。请使用：",
                  "en": "We have not collected any face data. Please use:"},
    "alt_equal": {"zh": "这不会影响您获得的服务。工作人员会为您办理。",
                  "en": "You get exactly the same service. Staff will help you with it."},
    "finish": {"zh": "完成", "en": "Finish"},
    "result_ok": {"zh": "完成！系统认出了您。", "en": "All done. It recognised you."},
    "result_fail": {"zh": "这次没能确认是您本人。", "en": "We could not confirm it was you this "
                                                         "time."},
    "try_again": {"zh": "再试一次", "en": "Try again"},
    "receipt_heading": {"zh": "您的回执", "en": "Your receipt"},
    "receipt_intro": {"zh": "请拍下或记下以下信息。离开此页面后将不再显示。",
                      "en": "Please photograph or write down the details below. They are not "
                            "shown again once you leave this page."},
    "receipt_subject": {"zh": "您的匿名编号", "en": "Your pseudonymous number"},
    "receipt_token": {"zh": "您的个人令牌（用于查看、撤回或删除）",
                      "en": "Your personal token (to see, withdraw or erase your data)"},
    "receipt_qr": {"zh": "个人令牌的二维码", "en": "QR code of your personal token"},
    "receipt_qr_help": {"zh": "用手机扫描此二维码即可保存令牌。",
                        "en": "Scan this QR code with your phone to keep the token."},
    "receipt_code": {"zh": "您的简短代码（与令牌作用相同，便于抄写）",
                     "en": "Your short code (works like the token, easier to copy)"},
    "receipt_code_help": {"zh": "输入时不区分大小写，可以不输入短横线。代码中没有 0、O、1、I、L。",
                          "en": "Upper or lower case, with or without the hyphens. The code "
                                "has no 0, O, 1, I or L."},
    "print": {"zh": "打印回执", "en": "Print the receipt"},
    "receipt_purpose": {"zh": "用途", "en": "Purpose"},
    "receipt_kept": {"zh": "保存期限", "en": "Kept for"},
    "receipt_withdraw": {"zh": "如何撤回", "en": "How to withdraw"},
    "receipt_withdraw_text": {"zh": "在本机选择“撤回同意”并输入令牌或简短代码，或到前台办理。"
                                    "撤回后您的人脸模板会立即删除。选择“查看或删除我的信息”"
                                    "可以查看并删除您的全部信息。",
                              "en": "On this kiosk choose \u201cWithdraw consent\u201d and enter "
                                    "your token or short code, or ask at reception. Your face "
                                    "template is deleted at once. Choose \u201cSee or erase my "
                                    "data\u201d to see everything we hold about you and erase "
                                    "it."},
    "withdraw_link": {"zh": "撤回同意", "en": "Withdraw consent"},
    "withdraw_heading": {"zh": "撤回同意", "en": "Withdraw your consent"},
    "withdraw_intro": {"zh": "输入您的个人令牌或简短代码。撤回后，您的人脸模板会立即删除。",
                       "en": "Enter your personal token or short code. Your face template is "
                             "deleted at once."},
    "withdraw_token": {"zh": "个人令牌或简短代码", "en": "Personal token or short code"},
    "token_required": {"zh": "请输入回执上的个人令牌或简短代码。",
                       "en": "Please enter the personal token or short code from your receipt."},
    "token_pattern": {"zh": "请检查：令牌以 fg_ 开头，简短代码是 20 个字母和数字。",
                      "en": "Please check it: a token starts with fg_, a short code has 20 "
                            "letters and digits."},
    "choose_required": {"zh": "请选择一项。", "en": "Please choose one."},
    "field_required": {"zh": "请填写此项。", "en": "Please fill in this field."},
    "entries_slow": {"zh": "本机输入次数过多。请稍等一分钟再试，或到前台办理。",
                     "en": "Too many tries at this kiosk. Please wait a minute and try again, "
                           "or ask at reception."},
    "colon": {"zh": "：", "en": ": "},
    "mine_link": {"zh": "查看或删除我的信息", "en": "See or erase my data"},
    "mine_heading": {"zh": "您的信息", "en": "Your data"},
    "mine_intro": {"zh": "输入您的个人令牌或简短代码，查看我们保存的关于您的信息。",
                   "en": "Enter your personal token or short code to see what we hold about "
                         "you."},
    "mine_open": {"zh": "查看我的信息", "en": "Show my data"},
    "mine_summary": {"zh": "我们保存的只有以下内容。人脸模板是加密的数字，不是照片，"
                           "在此不会显示。",
                     "en": "This is everything we hold. A face template is encrypted numbers, "
                           "not a photo, and is never shown here."},
    "mine_registered": {"zh": "登记时间", "en": "Registered"},
    "mine_consents": {"zh": "同意记录", "en": "Your consents"},
    "mine_granted": {"zh": "同意", "en": "Consented"},
    "mine_withdrawn": {"zh": "撤回", "en": "Withdrew"},
    "mine_templates": {"zh": "人脸模板数量", "en": "Face templates"},
    "mine_retention": {"zh": "保存期限", "en": "Kept for"},
    "mine_ends": {"zh": "最迟删除时间", "en": "Deleted at the latest on"},
    "mine_no_templates": {"zh": "没有保存人脸模板", "en": "No face template is kept"},
    "mine_images": {"zh": "是否保存了照片", "en": "Photo kept"},
    "mine_images_yes": {"zh": "是，共 {n} 张（加密保存）", "en": "Yes, {n} (encrypted)"},
    "mine_images_no": {"zh": "否，没有保存照片", "en": "No, no photo was kept"},
    "mine_nothing": {"zh": "我们没有保存您的任何信息。", "en": "We hold nothing about you."},
    "mine_erase": {"zh": "删除我的全部信息", "en": "Erase all my data"},
    "mine_erase_help": {"zh": "删除后，您的人脸模板、照片和同意记录都会被彻底删除，无法恢复。"
                              "日志中只保留一条删除记录，其中不含人脸信息。",
                        "en": "Erasing deletes your face templates, photos and consent records "
                              "for good; they cannot be restored. The log keeps only a note "
                              "that they were erased, with no face data."},
    "mine_confirm_heading": {"zh": "确定要删除您的全部信息吗？",
                             "en": "Erase all your data?"},
    "mine_confirm_yes": {"zh": "是，全部删除", "en": "Yes, erase everything"},
    "mine_confirm_no": {"zh": "不，返回", "en": "No, go back"},
    "mine_erased": {"zh": "已删除。删除的人脸模板数量：",
                    "en": "Erased. Face templates deleted: "},
    "mine_erased_note": {"zh": "您的信息已全部删除。此令牌和代码不再对应任何信息。",
                         "en": "Everything we held about you is gone. Your token and code no "
                               "longer lead to any data."},
    "mine_close": {"zh": "完成并关闭", "en": "Done, close"},
    "withdraw_submit": {"zh": "撤回并删除", "en": "Withdraw and delete"},
    "withdraw_done": {"zh": "已撤回。已删除的人脸模板数量：",
                      "en": "Withdrawn. Face templates deleted: "},
    "withdraw_bad": {"zh": "该令牌无效。请检查后重试，或到前台办理。",
                     "en": "That token is not valid. Please check it, or ask at reception."},
    "step": {"zh": "第 {n} 步，共 {of} 步", "en": "Step {n} of {of}"},
    "steps": {"zh": "进度", "en": "Progress"},
    "s1": {"zh": "了解", "en": "Read"},
    "s2": {"zh": "选择与同意", "en": "Choose"},
    "s3": {"zh": "拍照", "en": "Photo"},
    "s4": {"zh": "确认", "en": "Check"},
    "s5": {"zh": "回执", "en": "Receipt"},
    "receipt_notice": {"zh": "告知书版本", "en": "Notice version"},
    "mandated": {"zh": "依据法律规定，本项服务只能使用人脸识别：",
                 "en": "By law, this service can only use face recognition: "},
    "notice_changed": {"zh": "告知书刚刚更新。请先阅读新版本，再做选择。",
                       "en": "The notice has just been updated. Please read the new version "
                             "before you choose."},
    "back_start": {"zh": "返回首页", "en": "Back to the start"},
}


def when(moment: datetime, lang: str) -> str:
    """A time as people read it in ``lang`` (UTC, to the minute)."""
    moment = moment.astimezone(UTC)
    if lang == "zh":
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M} UTC"
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def text(key: str, lang: str = "en", **values: object) -> str:
    """The label ``key`` in ``lang``, formatted with ``values``."""
    entry = _T.get(key) or GUIDANCE.get(key) or {"en": key}
    phrase = entry.get(lang) or entry["en"]
    return phrase.format(**values) if values else phrase
