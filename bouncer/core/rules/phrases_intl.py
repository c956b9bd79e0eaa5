"""How servers phrase failures in other languages (German, French, Spanish, Italian, Portuguese,
Dutch, Japanese, Russian, Chinese, Polish ...). Lower-case; `*` is a short gap."""

from __future__ import annotations

# fmt: off
INTERNATIONAL: dict[str, tuple[str, ...]] = {
    "mailboxfull": (
        # German
        "postfach voll", "postfach ist voll", "postfach * voll", "mailbox ist voll",
        "speicherplatz", "quota überschritten", "kontingent überschritten",
        # French
        "boite pleine", "boîte pleine", "boite aux lettres pleine", "boîte aux lettres pleine",
        "boite du destinataire pleine", "boîte du destinataire pleine", "quota dépassé",
        "quota depasse", "espace disque insuffisant",
        # Spanish / Portuguese / Italian
        "buzón lleno", "buzon lleno", "buzón está lleno", "cuota excedida", "casilla llena",
        "caixa postal cheia", "caixa de correio cheia", "caixa cheia", "cota excedida",
        "casella piena", "casella di posta piena", "quota superata", "spazio esaurito",
        # Dutch / Polish / Czech
        "mailbox is vol", "postvak vol", "postvak is vol", "brievenbus vol", "skrzynka pełna",
        "skrzynka jest pełna", "przekroczony limit", "schránka je plná",
        # Russian / Japanese / Chinese / Korean
        "ящик переполнен", "почтовый ящик переполнен", "превышен размер ящика", "превышена квота",
        "нет места", "容量オーバー", "容量超過", "メールボックスがいっぱい", "容量が不足",
        "邮箱已满", "邮箱空间不足", "信箱已满", "郵箱已滿", "空间已满", "容量已满",
        "메일함이 가득",
    ),
    "mesgtoobig": (
        "nachricht zu groß", "nachricht ist zu groß", "message trop volumineux",
        "taille limite du message", "mensaje demasiado grande", "mensagem muito grande",
        "messaggio troppo grande", "bericht is te groot", "сообщение слишком большое",
        "слишком большой размер", "サイズが大きすぎ", "邮件过大", "邮件大小超过",
    ),
    "suspend": (
        "konto gesperrt", "konto deaktiviert", "postfach gesperrt", "postfach deaktiviert",
        "compte désactivé", "compte desactive", "compte suspendu",
        "boite du destinataire archivee", "boîte du destinataire archivée", "cuenta desactivada",
        "cuenta suspendida", "conta desativada", "conta suspensa", "account disattivato",
        "account sospeso", "casella disattivata", "account gedeactiveerd", "account geblokkeerd",
        "учетная запись заблокирована", "ящик заблокирован", "аккаунт заблокирован",
        "アカウントが停止", "利用停止", "账户已停用", "帐户已停用", "用户已冻结", "账号已冻结",
    ),
    "hostunknown": (
        "domäne existiert nicht", "domain existiert nicht", "domaine inconnu",
        "domaine inexistant", "dominio inexistente", "dominio no existe", "domínio inexistente",
        "dominio sconosciuto", "dominio inesistente", "домен не существует", "домен не найден",
        "ドメインが存在しません", "域名不存在",
    ),
    "userunknown": (
        # German
        "unbekannter empfänger", "empfänger unbekannt", "benutzer unbekannt",
        "unbekannter benutzer", "benutzer existiert nicht", "adresse existiert nicht",
        "postfach existiert nicht", "empfänger existiert nicht", "existiert nicht",
        "kein solcher benutzer", "ungültige adresse", "ungültiger empfänger",
        "adresse nicht gefunden", "keine e-mails empfangen kann", "unbekannte adresse",
        # French
        "utilisateur inconnu", "destinataire inconnu", "adresse inconnue", "adresse invalide",
        "destinataire invalide", "n'existe pas", "nexiste pas", "utilisateur inexistant",
        "boîte aux lettres inexistante", "boite aux lettres inexistante",
        "adresse d au moins un destinataire invalide",
        # Spanish
        "usuario desconocido", "destinatario desconocido", "no existe dicha persona",
        "no existe ese usuario", "usuario no existe", "el usuario no existe",
        "dirección no existe", "direccion no existe", "dirección inválida", "usuario inexistente",
        "cuenta no existe", "buzón no existe",
        # Portuguese
        "usuário desconhecido", "usuario desconhecido", "utilizador desconhecido",
        "destinatário desconhecido", "usuário inexistente", "endereço inexistente",
        "endereço inválido", "não existe", "conta inexistente",
        # Italian
        "utente sconosciuto", "utente inesistente", "utente non esiste", "indirizzo inesistente",
        "destinatario sconosciuto", "nessun utente simile", "indirizzo non valido",
        "casella inesistente", "non esiste",
        # Dutch / Polish / Czech / Swedish
        "onbekende gebruiker", "gebruiker onbekend", "gebruiker bestaat niet",
        "adres bestaat niet", "bestaat niet", "onbekend adres", "nieznany użytkownik",
        "użytkownik nie istnieje", "adres nie istnieje", "neznámý uživatel", "uživatel neexistuje",
        "okänd mottagare", "användaren finns inte",
        # Russian / Ukrainian
        "пользователь не найден", "нет такого пользователя", "пользователь не существует",
        "адрес не существует", "адресат не найден", "получатель не найден",
        "неизвестный пользователь", "неизвестный получатель", "ящик не существует",
        "такого ящика нет", "несуществующий адрес", "користувача не знайдено",
        # Japanese
        "宛先不明", "存在しないユーザ", "存在しないメールアドレス", "ユーザが存在しません",
        "ユーザーが存在しません", "アドレスが存在しません", "宛先のメールアドレスが見つかりません",
        "そのようなユーザーはいません", "受信者が存在しません",
        # Chinese / Korean
        "用户不存在", "收件人不存在", "此用户不存在", "邮箱不存在", "地址不存在", "帐户不存在",
        "账户不存在", "用戶不存在", "收件人地址不存在", "无此用户", "查无此人",
        "존재하지 않는 사용자", "존재하지 않는 메일",
    ),
    "spamdetected": (
        "als spam eingestuft", "spamverdacht", "als spam erkannt", "considéré comme spam",
        "considere comme spam", "identifié comme spam", "detectado como spam", "considerado spam",
        "identificado como spam", "rilevato come spam", "considerato spam", "herkend als spam",
        "als spam aangemerkt", "распознано как спам", "признано спамом", "спам", "迷惑メール",
        "スパム", "垃圾邮件", "垃圾郵件",
    ),
    "blocked": (
        "gesperrt", "blockiert", "bloqué", "bloque par", "bloqueado", "bloccato", "geblokkeerd",
        "заблокирован", "ブロック", "被拒绝", "拒绝接收",
    ),
    "policyviolation": (
        "richtlinie", "politique de sécurité", "política de seguridad", "politica di sicurezza",
        "beleid", "политик",
    ),
    "expired": (
        "zustellung fehlgeschlagen nach", "konnte nicht zugestellt werden innerhalb",
        "délai de livraison expiré", "délai dépassé", "tiempo de entrega expirado",
        "tempo di consegna scaduto", "bezorgtijd verlopen", "срок доставки истек", "配送期限切れ",
        "投递超时",
    ),
    "systemerror": (
        "interner fehler", "erreur interne", "error interno", "errore interno", "erro interno",
        "interne fout", "внутренняя ошибка", "システムエラー", "内部错误", "系统错误",
    ),
    "vacation": (
        "abwesenheitsnotiz", "bin abwesend", "nicht im büro", "absent du bureau",
        "fuera de la oficina", "fuori ufficio", "fora do escritório", "afwezig", "не в офисе",
        "不在", "休暇",
    ),
}
# fmt: on
