from django.urls import include, path

from deskhand.portal.views import auth, chat, kb, preview, requests
from deskhand.portal.views.brand import brand_css, logo
from deskhand.portal.views.forms import web_form
from deskhand.portal.views.language import choose_language
from deskhand.portal.views.surveys import survey

portal = ([
    path("", requests.home, name="home"),
    path("brand.css", brand_css, name="brand-css"),
    path("logo", logo, name="logo"),
    path("language", choose_language, name="language"),
    path("register", auth.register, name="register"),
    path("verify/<str:token>", auth.verify, name="verify"),
    path("login", auth.sign_in, name="login"),
    path("logout", auth.sign_out, name="logout"),
    path("link/<str:token>", auth.use_link, name="link"),
    path("password", auth.choose_password, name="password"),
    path("password/<str:token>", auth.password_link, name="set-password"),
    path("send/sign-in", auth.send_link, {"purpose": "sign-in"}, name="send-sign-in"),
    path("send/reset", auth.send_link, {"purpose": "reset"}, name="send-reset"),
    path("chat", chat.chat_page, name="chat"),
    path("chat/start", chat.start, name="chat-start"),
    path("requests/new", requests.new_request, name="new-request"),
    path("requests/<id:item_id>", requests.request_page, name="request"),
    path("requests/<id:item_id>/follow", requests.follow, name="follow"),
    path("requests/<id:item_id>/solve", requests.solve, name="solve"),
    path("requests/<id:item_id>/files/<id:attachment_id>", requests.attachment, name="attachment"),
    path("preview/<id:customer_id>/", preview.preview_home, name="preview"),
    path("preview/<id:customer_id>/requests/<id:item_id>", preview.preview_request, name="preview-request"),
], "portal")

urlpatterns = [
    path("surveys/<str:token>", survey, name="survey"),
    path("forms/<slug:slug>", web_form, name="web-form"),
    path("kb/", kb.kb_home, name="kb-home"),
    path("kb/suggest", kb.suggest, name="kb-suggest"),
    path("kb/<slug:slug>/", kb.category_page, name="kb-category"),
    path("kb/<slug:slug>", kb.article_page, name="kb-article"),
    path("kb/<slug:slug>/feedback", kb.feedback, name="kb-feedback"),
    path("kb/<slug:slug>/answered", kb.deflected, name="kb-answered"),
    path("portal/", include(portal)),
]
